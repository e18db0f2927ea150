"""The catalog's main path through the HTTP API."""


def test_public_product_list_shows_active_products_with_stock(client, world):
    response = client.get("/api/v1/products")
    assert response.status_code == 200, response.text
    body = response.json()
    ids = {item["id"] for item in body["items"]}
    assert ids == {world.active.id, world.coop_product.id, world.other_coop_product.id}
    honey = next(i for i in body["items"] if i["id"] == world.active.id)
    assert honey["stock"] == 10
    assert honey["price"] == {"amount": 6800, "currency": "CNY"}
    assert honey["name"] == {"zh": "土蜂蜜", "en": "Wild honey"}
    assert body["next_cursor"] is None
