"""In a browser at 360 px, JavaScript off: a manager prints a sign-in card for a member household;
the member opens the card on their phone, chooses a password and lands signed in; their plan page
shows the progress chart within the screen; the used card is refused."""

from datetime import date, timedelta

from playwright.sync_api import Browser

from api.demo import DEMO_USERS

PHONE = {"width": 360, "height": 740}
MANAGER = next(user for user in DEMO_USERS if user.role == "manager")
STAFF = next(user for user in DEMO_USERS if user.role == "staff")
NEW_PASSWORD = "honey-bees-2026-spring"


def _fits(page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360, f"{page.url} scrolls sideways ({width}px)"


def test_a_member_signs_in_with_a_printed_card_on_a_phone(browser: Browser, live_server: str):
    desk = browser.new_context(
        base_url=live_server, locale="en", viewport=PHONE, java_script_enabled=False
    )
    page = desk.new_page()
    page.goto("/login")
    page.get_by_label("Email").fill(MANAGER.email)
    page.get_by_label("Password").fill(MANAGER.password)
    page.get_by_role("button", name="Sign in").click()
    page.goto("/manage/catalog")
    links = page.locator("a[href$='/sign-in-card']")
    assert links.count() >= 2
    card_path = links.last.get_attribute("href")
    assert card_path is not None
    household_id = int(card_path.split("/")[3])
    page.goto(card_path)
    _fits(page)
    page.get_by_label("The member's mobile number").fill("139 4444 0001")
    page.get_by_role("button", name="Create the account and print a card").click()
    _fits(page)
    qr = page.locator(".sign-in-card .qr svg")
    box = qr.bounding_box()
    assert box is not None
    assert 120 <= box["width"] <= 360
    url = page.locator(".card-url").inner_text().strip()
    path = url[url.index("/card/") :]

    # A plan for the household (staff, through the API), so the chart has something to draw.
    token = page.request.post(
        "/api/v1/auth/token", form={"username": STAFF.email, "password": STAFF.password}
    ).json()["access_token"]
    review_on = (date.today() + timedelta(days=60)).isoformat()
    made = page.request.post(
        f"/api/v1/households/{household_id}/plan",
        headers={"Authorization": f"Bearer {token}"},
        data={
            "review_on": review_on,
            "goals": [{"kind": "income", "description": "Honey", "target_per_capita": 120000}],
        },
    )
    assert made.status == 201, made.text()

    member = browser.new_context(
        base_url=live_server, locale="en", viewport=PHONE, java_script_enabled=False
    )
    phone = member.new_page()
    phone.goto(path)
    _fits(phone)
    phone.get_by_label("New password (at least 10 characters)").fill(NEW_PASSWORD)
    phone.get_by_label("The same password again").fill(NEW_PASSWORD)
    phone.get_by_role("button", name="Save and sign in").click()
    assert phone.url.endswith("/plan")
    _fits(phone)
    chart = phone.locator(".plan-chart svg")
    chart_box = chart.bounding_box()
    assert chart_box is not None
    assert chart_box["width"] <= 340
    smallest = phone.evaluate(
        "Math.min(...[...document.querySelectorAll('.plan-chart svg text')].map("
        "t => t.getBoundingClientRect().height))"
    )
    assert smallest >= 11 * 0.9  # labels stay readable on the phone (≈ 11 px glyph boxes)

    again = member.new_page()
    response = again.goto(path)
    assert response is not None
    assert response.status == 410
    desk.close()
    member.close()
