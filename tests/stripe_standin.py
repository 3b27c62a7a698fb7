"""A local stand-in for Stripe's API: Checkout, customers, payment methods, subscriptions
(created and cancelled) and billing-portal sessions, recording each request."""

from __future__ import annotations

import json
import threading
import urllib.parse
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PRICE = "price_premium"


class StripeStandIn(BaseHTTPRequestHandler):
    """Just enough of api.stripe.com for Checkout and paying by payment method."""

    requests: list[tuple[str, dict[str, list[str]]]] = []

    def do_GET(self) -> None:
        StripeStandIn.requests.append((self.path, {}))
        if self.path == f"/v1/prices/{PRICE}":
            self._send(200, {"id": PRICE, "object": "price", "unit_amount": 1500, "currency": "eur",
                             "recurring": {"interval": "month", "interval_count": 1}})
        else:
            self._send(404, {"error": {"type": "invalid_request_error", "message": f"no {self.path}"}})

    def do_DELETE(self) -> None:
        StripeStandIn.requests.append((self.path, {}))
        if self.path.startswith("/v1/subscriptions/"):
            self._send(200, {"id": self.path.rsplit("/", 1)[1], "object": "subscription",
                             "status": "canceled"})
        else:
            self._send(404, {"error": {"type": "invalid_request_error", "message": f"no {self.path}"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = urllib.parse.parse_qs(self.rfile.read(length).decode())
        StripeStandIn.requests.append((self.path, form))
        self._send(*self._answer(self.path, form))

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Request-Id", "req_standin")
        self.end_headers()
        self.wfile.write(data)

    @staticmethod
    def _answer(path: str, form: dict[str, list[str]]) -> tuple[int, dict[str, Any]]:
        if path == "/v1/checkout/sessions":
            return 200, {"id": "cs_test_1", "object": "checkout.session",
                         "url": "https://checkout.stripe.com/c/pay/cs_test_1"}
        if path == "/v1/billing_portal/sessions":
            return 200, {"id": "bps_1", "object": "billing_portal.session",
                         "url": "https://billing.stripe.com/p/session/test_1"}
        if path == "/v1/customers":
            return 200, {"id": "cus_1", "object": "customer"}
        if path.startswith("/v1/payment_methods/"):
            if "chargeDeclined" in path:
                return 402, {"error": {"type": "card_error", "code": "card_declined",
                                       "decline_code": "generic_decline",
                                       "message": "Your card was declined."}}
            return 200, {"id": "pm_1", "object": "payment_method"}
        if path == "/v1/subscriptions":
            return 200, {"id": f"sub_{uuid.uuid4().hex[:8]}", "object": "subscription", "status": "active"}
        return 404, {"error": {"type": "invalid_request_error", "message": f"no {path}"}}

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def running_standin() -> Iterator[str]:
    """The stand-in, serving on a free port; its base address."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), StripeStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
