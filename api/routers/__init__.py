"""Thin HTTP routers: parse, authorize, call one service, return."""
