"""The page shell: locale negotiation, the language switch, static files, headers, error pages."""

import pytest

from tests.frontend.helpers import HTML

ZH_HERO = "乡村合作社的好产品"
EN_HERO = "Products from village cooperatives"


def test_home_is_chinese_by_default(client):
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<html lang="zh-CN">' in page.text
    assert ZH_HERO in page.text
    assert "登录" in page.text
    assert EN_HERO not in page.text


def test_accept_language_english_gives_english(client):
    page = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9,zh;q=0.5"})
    assert '<html lang="en">' in page.text
    assert EN_HERO in page.text
    assert ZH_HERO not in page.text


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("zh-CN,zh;q=0.9", "zh-CN"),
        ("zh", "zh-CN"),
        ("fr-FR,en;q=0.5", "en"),
        ("en;q=0.2,zh-CN;q=0.8", "zh-CN"),
        ("de-DE", "zh-CN"),
        ("en;q=0", "zh-CN"),
        ("garbage;;q=x", "zh-CN"),
    ],
)
def test_accept_language_negotiation(client, header, expected):
    page = client.get("/", headers={"Accept-Language": header})
    assert f'<html lang="{expected}">' in page.text


def test_the_cookie_wins_over_accept_language(client):
    client.cookies.set("hezuo_locale", "en")
    page = client.get("/", headers={"Accept-Language": "zh-CN"})
    assert EN_HERO in page.text


def test_an_unknown_cookie_value_is_ignored(client):
    client.cookies.set("hezuo_locale", "xx")
    assert '<html lang="zh-CN">' in client.get("/").text


def test_the_language_switch_sets_the_cookie_and_goes_back(client):
    switched = client.get("/locale?lang=en&next=/login%3Fnext%3D/me", follow_redirects=False)
    assert switched.status_code == 303
    assert switched.headers["location"] == "/login?next=/me"
    cookie = switched.headers["set-cookie"]
    assert "hezuo_locale=en" in cookie
    assert "samesite=lax" in cookie.lower()
    assert "Sign in" in client.get("/login").text
    back = client.get("/locale?lang=zh-CN&next=/", follow_redirects=True)
    assert ZH_HERO in back.text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "evil.example",
        "/%0d%0aSet-Cookie:x=1",
    ],
)
def test_the_language_switch_never_redirects_off_site(client, target):
    from urllib.parse import quote

    switched = client.get(f"/locale?lang=en&next={quote(target, safe='')}", follow_redirects=False)
    assert switched.status_code == 303
    location = switched.headers["location"]
    assert location.startswith("/")
    assert not location.startswith("//")
    assert "evil" not in location
    assert "\n" not in location
    assert "\r" not in location


def test_an_unknown_language_is_422_naming_the_field(client):
    answer = client.get("/locale?lang=fr&next=/", follow_redirects=False)
    assert answer.status_code == 422
    assert answer.json()["errors"][0]["loc"] == ["query", "lang"]
    assert "hezuo_locale" not in answer.headers.get("set-cookie", "")


def test_pages_carry_security_and_cache_headers(client):
    page = client.get("/")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "no-cache" in page.headers["cache-control"]
    assert "Accept-Language" in page.headers["vary"]
    assert page.headers["content-language"] == "zh-CN"


def test_the_stylesheet_is_small_versioned_and_cached(client):
    import re

    page = client.get("/").text
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', page)
    assert match
    href = match.group(1)
    assert href.startswith("/static/css/site.css?v=")
    css = client.get(href)
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "immutable" in css.headers["cache-control"]
    assert "max-age=31536000" in css.headers["cache-control"]
    assert len(css.content) < 12_000
    unversioned = client.get("/static/css/site.css")
    assert unversioned.headers["cache-control"] == "public, max-age=3600"


def test_pages_need_no_javascript_and_no_web_fonts(client):
    page = client.get("/").text
    css = client.get("/static/css/site.css").text
    assert "<script" not in page
    assert "@font-face" not in css
    assert "@import" not in css


def test_a_missing_page_is_a_translated_html_404_for_a_browser(client):
    page = client.get("/no-such-page", headers=HTML)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "页面不存在" in page.text
    assert "404" in page.text
    english = client.get("/no-such-page", headers={**HTML, "Accept-Language": "en"})
    assert "Page not found" in english.text


def test_a_missing_page_is_problem_json_for_an_api_client(client):
    answer = client.get("/no-such-page", headers={"Accept": "application/json"})
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["status"] == 404


def test_api_routes_keep_problem_json_even_for_a_browser(client):
    answer = client.get("/api/v1/me", headers=HTML)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_a_missing_static_file_is_404(client):
    assert client.get("/static/css/nope.css", headers=HTML).status_code == 404


def test_a_wrong_method_is_a_405_page(client):
    page = client.put("/login", headers=HTML)
    assert page.status_code == 405
    assert "不允许此操作" in page.text


def test_pages_are_not_in_the_openapi_document(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert not {"/", "/login", "/logout", "/me", "/locale"} & set(paths)


def test_home_shows_products_in_stock_and_links_the_storefront(client, session, settings):
    from api.demo import load_demo

    load_demo(session, settings=settings.model_copy(update={"env": "development"}))
    session.commit()
    page = client.get("/", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200
    assert "合作社新品" in page.text
    assert "松江土蜂蜜" in page.text
    assert 'href="/products"' in page.text


@pytest.mark.parametrize(
    ("role", "shown", "hidden"),
    [
        (
            None,
            ["/products", "/training", "/disclosures", "/cart"],
            ["/staff", "/sell", "/me/orders"],
        ),
        ("buyer", ["/me/orders", "/me"], ["/staff", "/sell", "/manage/catalog"]),
        ("farmer", ["/sell", "/me/income", "/me/training"], ["/staff", "/manage/catalog"]),
        ("manager", ["/manage/catalog", "/manage/fulfilment"], ["/staff", "/sell"]),
        ("staff", ["/staff"], ["/sell", "/manage/catalog"]),
    ],
)
def test_navigation_offers_each_role_its_own_places(client, make_user, role, shown, hidden):
    from tests.conftest import TEST_PASSWORD
    from tests.frontend.helpers import sign_in

    if role is not None:
        user = make_user(role)
        sign_in(client, user.email, TEST_PASSWORD)
    page = client.get("/", headers=HTML).text
    nav = page.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    for href in shown:
        assert f'href="{href}"' in nav, href
    for href in hidden:
        assert f'href="{href}"' not in nav, href
