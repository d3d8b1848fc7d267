"""API shapes of schools (organisations)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["OrganisationPublic"]


class OrganisationPublic(BaseModel):
    """A school the user may see."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    municipality: str | None
    region: str | None = None
