"""Server-rendered pages: wired into the app by the composition root."""

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

PLACEHOLDER = "<!doctype html><html lang=zh-CN><title>合作 Hezuo</title><h1>合作 Hezuo</h1></html>"


def install_frontend(app: FastAPI) -> None:
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def home() -> str:
        return PLACEHOLDER
