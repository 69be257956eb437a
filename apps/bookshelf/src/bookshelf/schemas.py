"""Request and response bodies."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class BookIn(BaseModel):
    title: str = Field(min_length=1, max_length=200)
    author: str = Field(min_length=1, max_length=200)
    year: int | None = Field(default=None, ge=0, le=9999)
    isbn: str | None = Field(default=None, min_length=10, max_length=17, pattern=r"^[0-9X-]+$")


class BookPatch(BaseModel):
    title: str | None = Field(default=None, min_length=1, max_length=200)
    author: str | None = Field(default=None, min_length=1, max_length=200)
    year: int | None = Field(default=None, ge=0, le=9999)
    isbn: str | None = Field(default=None, min_length=10, max_length=17, pattern=r"^[0-9X-]+$")


class BookOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    title: str
    author: str
    year: int | None
    isbn: str | None


class BookPage(BaseModel):
    items: list[BookOut]
    total: int
    page: int
    pages: int
    per_page: int
    has_next: bool
    has_prev: bool
