"""Resource options a component hands on to its children."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi


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
