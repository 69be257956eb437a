"""Extensions listed in ``Config.EXTENSIONS`` as import strings."""

from pydantic import BaseModel

from ferrule.core import App, Extension


class Counter(Extension):
    """Counts calls per app; its state lives on the app."""

    class config_model(BaseModel):
        START: int = 0

    def bump(self, app: App) -> int:
        data = self.state(app).data
        data["calls"] = data.get("calls", self.settings(app).START) + 1
        return int(data["calls"])


counter = Counter()
