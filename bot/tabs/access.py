"""Who is asking for a tab page, and whether they may see it: sign-in, then the role.

With authentication on, the Teams single sign-on token decides who is signed in; with it off
(only ever on a loopback address, for the demo) the configured local user is. Anything else, or
a configuration that cannot check tokens, signs nobody in: the tab fails closed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import StrEnum

from bot.adapters.botframework.auth import AuthenticationError
from bot.adapters.entra.sso import SignedIn, TabTokenValidator

log = logging.getLogger(__name__)


class Role(StrEnum):
    ICT_ADMIN = "ict_admin"  # every view of ICT's tab
    PAYROLL_ADMIN = "payroll_admin"  # the payroll file's upload only


class NotSignedIn(Exception):
    """No valid sign-in on the request: answer 401."""


class Forbidden(Exception):
    """Signed in, but without the role the page needs: answer 403."""


@dataclass(frozen=True)
class Viewer:
    object_id: str
    name: str
    roles: frozenset[Role]


class TabAccess:
    """Turns a request's Authorization header into a viewer with roles, or says no."""

    def __init__(
        self,
        *,
        validator: TabTokenValidator | None,
        local_user_id: str,
        ict_admins: frozenset[str],
        payroll_admins: frozenset[str] = frozenset(),
    ) -> None:
        self._validator = validator
        self._local_user_id = local_user_id
        self._members = {Role.ICT_ADMIN: ict_admins, Role.PAYROLL_ADMIN: payroll_admins}

    async def viewer(self, authorization: str) -> Viewer:
        signed_in = await self._signed_in(authorization)
        roles = frozenset(
            role for role, members in self._members.items() if signed_in.object_id in members
        )
        return Viewer(signed_in.object_id, signed_in.name, roles)

    async def require(self, authorization: str, roles: frozenset[Role]) -> Viewer:
        """The viewer if they have one of `roles`; else NotSignedIn or Forbidden."""
        viewer = await self.viewer(authorization)
        if not viewer.roles & roles:
            raise Forbidden(",".join(sorted(roles)))
        return viewer

    async def _signed_in(self, authorization: str) -> SignedIn:
        if self._validator is not None:
            try:
                return await self._validator.validate(authorization)
            except AuthenticationError as error:
                log.info("tab sign-in refused: %s", error)
                raise NotSignedIn(str(error)) from error
        if self._local_user_id:
            return SignedIn(self._local_user_id, "")
        raise NotSignedIn("no sign-in is configured")
