"""The hello application."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from ferrule.core import (
    App,
    BaseConfig,
    Controller,
    Header,
    HttpStatus,
    Query,
    Request,
    Response,
    abort,
    get,
    path,
    post,
)


class Config(BaseConfig):
    APP_NAME: str = "Hello"


class Greeting(BaseModel):
    message: str
    shout: bool = False


class Item(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price: float = Field(ge=0)
    tags: list[str] = []


class ItemOut(BaseModel):
    id: int
    name: str
    price: float
    tags: list[str]


@path("/", tags=["Hello"])
class HelloApi(Controller):
    @get("/")
    async def index(self) -> dict[str, str]:
        """Say hello."""
        return {"message": "Hello from Ferrule"}

    @get("/hello/<name>")
    async def greet(
        self,
        name: str,
        times: Annotated[int, Query(description="How many times")] = 1,
        user_agent: Annotated[str | None, Header()] = None,
    ) -> Greeting:
        """Greet ``name``, ``times`` times."""
        if not 1 <= times <= 10:
            abort("times must be between 1 and 10", status_code=HttpStatus.BAD_REQUEST)
        return Greeting(message=" ".join([f"Hello, {name}!"] * times))


@path("/items", tags=["Items"])
class ItemsApi(Controller):
    """A tiny in-memory item store (per app instance)."""

    def __init__(self, app: App) -> None:
        super().__init__(app)
        self.items: dict[int, ItemOut] = {}

    @get("/")
    async def list_items(self, limit: int = 10, offset: int = 0) -> Response[list[ItemOut]]:
        """List items with paging."""
        values = list(self.items.values())[offset : offset + limit]
        return Response(values)

    @get("/<int:item_id>")
    async def get_item(self, item_id: int) -> ItemOut:
        """Fetch one item."""
        item = self.items.get(item_id)
        if item is None:
            abort(f"Item {item_id} not found", status_code=HttpStatus.NOT_FOUND)
        return item

    @post("/", status_code=201)
    async def create_item(self, req: Request, item: Item) -> Response[ItemOut]:
        """Create an item."""
        new = ItemOut(id=len(self.items) + 1, **item.model_dump())
        self.items[new.id] = new
        return req.response.json(new).status(HttpStatus.CREATED)


class Application(App):
    config_class = Config

    def __init__(self) -> None:
        super().__init__(controllers=[HelloApi, ItemsApi])


app = Application()
