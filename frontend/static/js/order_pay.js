// Card payment page: confirm the order's PaymentIntent with Stripe.js, then go to the return URL,
// which completes the payment on the server (the webhook does the same; whichever is first wins).
(function () {
  "use strict";
  var form = document.getElementById("card-form");
  if (!form || typeof Stripe === "undefined") { return; }
  var stripe = Stripe(form.dataset.publishableKey);
  var card = stripe.elements().create("card");
  var errors = document.getElementById("card-errors");
  card.mount("#card-element");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    form.querySelector("button").disabled = true;
    stripe.confirmCardPayment(form.dataset.clientSecret, { payment_method: { card: card } })
      .then(function (result) {
        if (result.error) {
          errors.textContent = result.error.message;
          errors.hidden = false;
          form.querySelector("button").disabled = false;
          return;
        }
        var url = new URL(form.dataset.returnUrl);
        url.searchParams.set("payment_intent", result.paymentIntent.id);
        window.location.assign(url.toString());
      });
  });
}());
