"""The Stripe gateway the app talks to (one per app, made on first use), for routes and pages alike."""

from typing import Annotated

from fastapi import Depends, Request

from api.deps import SettingsDep
from orders.stripe_gateway import StripeGateway


def gateway_or_none(request: Request, settings: SettingsDep) -> StripeGateway | None:
    """The app's Stripe gateway, or None when Stripe is not configured (HEZUO_STRIPE_SECRET_KEY)."""
    if not settings.stripe_secret_key:
        return None
    gateway = getattr(request.app.state, "stripe_gateway", None)
    if gateway is None:
        gateway = request.app.state.stripe_gateway = StripeGateway(
            settings.stripe_secret_key,
            api_base=settings.stripe_api_base,
            payment_method_types=settings.stripe_payment_methods,
        )
    return gateway


GatewayDep = Annotated[StripeGateway | None, Depends(gateway_or_none)]
