"""The in-cluster layer (``broxiva:k8s:*``): the app namespace baseline and the add-ons the apps stand on.

Each component is given the Kubernetes provider once, in its ``opts``; every child inherits it.
"""
