"""Request bodies and small response models of the HTTP API (they make the published OpenAPI spec)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: Free text from operators: printable, bounded.
_TEXT = r"^[^\x00-\x1f\x7f]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginRequest(_Strict):
    """A person's name and password (the accounts file), or a machine client's token."""

    name: str | None = Field(None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._-]+$",
                             description="Account name.")
    password: str | None = Field(None, min_length=1, max_length=256, description="The account's password.")
    token: str | None = Field(None, min_length=1, max_length=256,
                              description="Operator or viewer token (machine clients).")

    @model_validator(mode="after")
    def _one_credential(self) -> "LoginRequest":
        if (self.token is None) == (self.name is None or self.password is None):
            raise ValueError("expected either name and password, or token")
        return self


class SessionInfo(BaseModel):
    role: Literal["none", "viewer", "operator"]
    person: str | None = Field(None, description="Account name (or token:ROLE) of a logged-in caller.")
    session: str | None = Field(None, description="Tag of the caller's session (not the secret id).")
    commands_enabled: bool
    open_viewing: bool


class AcknowledgeRequest(_Strict):
    by: str = Field("operator", min_length=1, max_length=64, pattern=_TEXT, description="Who acknowledges.")
    comment: str = Field("", max_length=300, pattern=_TEXT, description="Why, or what was done.")
    lot_id: str | None = Field(None, max_length=200, pattern=_TEXT,
                               description="The lot of the alarm meant; another lot's alarm answers 409.")


class TargetedSampleRequest(_Strict):
    mark_t: float = Field(ge=0.0, le=1e7, allow_inf_nan=False,
                          description="Lot-relative tonnage mark of the material to sample, t.")
    reason: str = Field(min_length=1, max_length=200, pattern=_TEXT)


class StopLotRequest(_Strict):
    reason: str = Field(min_length=1, max_length=200, pattern=_TEXT)
    confirm: Literal[True] = Field(description="Must be true: stopping ends the lot as aborted.")


class CommandResult(BaseModel):
    ok: bool
    message: str
    detail: dict[str, Any] = {}


class ErrorBody(BaseModel):
    detail: Any


class SpectrumOut(BaseModel):
    lot_id: str
    segment: int
    stream: str
    n_spectra: int
    axis: Literal["wavelength_nm", "channel"]
    wavelength_nm: list[float]
    mean_reflectance: list[float]
    std_reflectance: list[float]
