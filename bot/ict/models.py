"""Files uploaded in ICT's tab: who sent what and when, and what became of it."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.db.base import Base


class UploadKind(StrEnum):
    PAYROLL = "payroll"  # payroll's monthly deductions file
    CATALOG = "catalog"  # the phone catalog


class UploadState(StrEnum):
    CHECKED = "checked"  # read and tried without changing anything; waits for confirmation
    REFUSED = "refused"  # had problems; nothing was changed
    IMPORTED = "imported"  # confirmed and imported
    DISCARDED = "discarded"  # the uploader chose not to import it


class FileUpload(Base):
    """One uploaded file. Its bytes are kept only until it is imported or discarded."""

    __tablename__ = "file_upload"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16), index=True)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    content: Mapped[bytes | None] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16))
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    uploaded_by: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime]
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None]
