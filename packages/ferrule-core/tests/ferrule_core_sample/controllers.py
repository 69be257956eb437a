"""Controllers listed in ``Config.CONTROLLERS`` as import strings."""

from ferrule.core import Controller, get, path

from .extensions import Counter, counter


class TeapotError(Exception):
    """Raised by a handler; rendered by ``errors:SampleErrors``."""


@path("/api/v1/users", tags=["Users"])
class UsersApi(Controller):
    @get("/<int:user_id>")
    async def get_user(self, user_id: int) -> dict[str, object]:
        return {"id": user_id, "app": self.app.config.APP_NAME}

    @get("/count")
    async def count(self, ext: Counter) -> dict[str, object]:
        return {"same_instance": ext is counter, "calls": ext.bump(self.app)}

    @get("/teapot")
    async def teapot(self) -> dict[str, object]:
        raise TeapotError("short and stout")


NOT_A_CONTROLLER = object()
