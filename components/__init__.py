"""Component resources of the Broxiva platform, by layer: ``config`` (typed stack values), ``azure``,
``k8s`` (in-cluster add-ons) and ``apps`` (blue/green workloads and routes). ``names`` holds every name
more than one module uses."""
