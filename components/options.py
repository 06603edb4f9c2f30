"""Resource options a component hands on to its children."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pulumi


def removable(parent: pulumi.Resource, **options: Any) -> pulumi.ResourceOptions:
    """Options of a child that may be deleted although its parent is protected.

    A child inherits ``protect`` from its parent unless it sets its own (``pulumi/resource.py``
    ``ResourceOptions`` merge in ``Resource.__init__``): role assignments, records, pools and secrets under
    a protected vault, zone or cluster say False, so that the kept resource is the only one protected.
    """
    return pulumi.ResourceOptions(parent=parent, protect=False, **options)


def children_depends_on(
    opts: pulumi.ResourceOptions | None,
) -> pulumi.Input[Sequence[pulumi.Input[pulumi.Resource]] | pulumi.Resource] | None:
    """The ``depends_on`` a component was given, for the children that must wait for it too.

    The engine orders a component's children by their own dependencies only: a component's depends_on
    does not reach them (``pulumi/runtime/resource.py`` ``prepare_resource`` reads ``opts.depends_on``
    of the resource being registered, never its parent's). A component whose children must wait passes
    it on explicitly.
    """
    return opts.depends_on if opts is not None else None
