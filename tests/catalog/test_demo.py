"""The Songjiang demo catalog loads once, links the demo users, and is found by search."""

from sqlalchemy import func, select

from api import service
from api.demo import load_demo
from catalog.models import Household, Lot, Product, ProductPhoto


def test_demo_catalog_is_idempotent_and_links_users(session, settings, client):
    development = settings.model_copy(update={"env": "development"})
    first = load_demo(session, settings=development)
    session.commit()
    assert "product 松江土蜂蜜" in first
    assert load_demo(session, settings=development) == []
    session.commit()
    counts = [
        session.scalar(select(func.count()).select_from(model))
        for model in (Household, Product, Lot, ProductPhoto)
    ]
    assert counts == [5, 4, 4, 4]
    manager = service.get_user_by_email(session, "manager@songjiang.demo")
    farmer = service.get_user_by_email(session, "farmer@songjiang.demo")
    assert manager is not None
    assert farmer is not None
    assert manager.coop_id is not None
    household = session.get_one(Household, farmer.household_id)
    assert household.member_code == "SJ-0001"
    for q in ("蜂蜜", "honey", "茶", "tea", "大米", "rice", "香菇", "shiitake"):
        assert len(client.get("/api/v1/products", params={"q": q}).json()["items"]) == 1, q
    photo = client.get("/api/v1/products", params={"q": "蜂蜜"}).json()["items"][0]["photos"][0]
    assert client.get(photo["thumbnail_url"]).status_code == 200
