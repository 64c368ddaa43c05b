"""The document GraphiQL opens with: the API's main operations, ready to run, and how to
send a token when authentication is on."""

from __future__ import annotations

_INTRODUCTION = """\
# cqrs-orders: every mutation is a command appended to an event log; queries read tables
# that projections keep up to date; subscriptions say when a write has reached them.
#
# Put the cursor in an operation and press Ctrl-Enter to run it (or pick it from the
# play button's list).
# Ctrl-Space completes fields; the Docs and Explorer panes (left) list the schema.
"""

_AUTHENTICATION = """\
#
# Authentication is on: every operation but the schema's own needs a bearer token.
# Get one from your identity provider (or, with AUTH_JWT_SECRET set:
#   cqrs-orders token --sub ada               a customer, who acts for "ada" only
#   cqrs-orders token --sub shop --role staff staff, who may do everything)
# then open the Headers tab (below) and paste:
#   {"Authorization": "Bearer <the token>"}
# Subscriptions send the same header in their connection_init payload.
"""

_OPERATIONS = """
# 1. Create an order and read it back in one round trip: `order` waits until the
#    projections have applied the new events (read-your-writes), then reads them.
mutation CreateAndReadBack {
  createOrder(input: {
    customerId: "ada"
    items: [{ productId: "mug-classic", quantity: 2, unitPrice: "9.99" }]
    shippingAddress: { name: "Ada Lovelace", line1: "12 St James's Sq",
                       city: "London", postalCode: "SW1Y 4JH", country: "GB" }
  }) {
    orderId
    version
    position
    order { status itemCount totalAmount createdAt }
  }
}

# 2. A customer's orders, newest first, a page at a time (pageSize at most 100).
query CustomerOrders {
  customerOrders(customerId: "ada", page: 1, pageSize: 10) {
    total
    items { id status totalAmount createdAt }
  }
}

# 3. Wait, over the websocket, until the read side reaches a position (a mutation's
#    `position`): the last message has `reached` or `timedOut` true.
subscription Consistency {
  consistency(position: 0, timeoutMs: 2000) {
    reached
    timedOut
    projections { name position }
  }
}
"""


def default_document(authentication_required: bool) -> str:
    """The document, with the token's instructions when the service requires one."""
    return _INTRODUCTION + (_AUTHENTICATION if authentication_required else "") + _OPERATIONS
