// Online payment page: confirm the order's PaymentIntent with Stripe.js (card, Alipay or WeChat
// Pay), then go to the return URL, which completes the payment on the server (the webhook does the
// same; whichever is first wins). Alipay leaves for its own page and Stripe sends the buyer back to
// the return URL itself; WeChat Pay shows its QR code in Stripe's dialog.
(function () {
  "use strict";
  var box = document.getElementById("online-payment");
  if (!box || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(box.dataset.publishableKey);
  var secret = box.dataset.clientSecret;
  var errors = document.getElementById("payment-errors");
  var buttons = box.querySelectorAll("button");

  function busy(on) {
    for (var i = 0; i < buttons.length; i += 1) { buttons[i].disabled = on; }
  }

  function settle(result) {
    if (result.error) {
      errors.textContent = result.error.message;
      errors.hidden = false;
      busy(false);
      return;
    }
    var url = new URL(box.dataset.returnUrl);
    url.searchParams.set("payment_intent", result.paymentIntent.id);
    window.location.assign(url.toString());
  }

  var form = document.getElementById("card-form");
  if (form) {
    var card = stripe.elements().create("card");
    card.mount("#card-element");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      busy(true);
      stripe.confirmCardPayment(secret, { payment_method: { card: card } }).then(settle);
    });
  }

  var alipay = box.querySelector("[data-channel=alipay]");
  if (alipay) {
    alipay.addEventListener("click", function () {
      busy(true);
      stripe.confirmAlipayPayment(secret, { return_url: box.dataset.returnUrl }).then(settle);
    });
  }

  var wechat = box.querySelector("[data-channel=wechat_pay]");
  if (wechat) {
    wechat.addEventListener("click", function () {
      busy(true);
      stripe.confirmWechatPayPayment(secret, {
        payment_method_options: { wechat_pay: { client: "web" } }
      }).then(settle);
    });
  }
}());
