"""Exception handlers listed in ``Config.EXCEPTION_HANDLERS``."""

from ferrule.core import ExceptionHandler, Request, Response, handles

from .controllers import TeapotError


class SampleErrors(ExceptionHandler):
    @handles(TeapotError)
    async def teapot(self, req: Request, exc: TeapotError) -> Response[dict[str, str]]:
        return req.response.json({"teapot": str(exc)}).status(418)


class NotAHandler:
    pass
