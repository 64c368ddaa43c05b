"""Every query of the read side, in one place for the API layer."""

from readmodels.customer_summaries.queries import GetCustomerSummary
from readmodels.order_views.queries import (
    MAX_PAGE_SIZE,
    GetCustomerOrders,
    GetOrderById,
    OrderFilter,
    OrderSortField,
    SearchOrders,
    SortOrder,
)
from readmodels.status_queries import GetProjectionStatuses

__all__ = [
    "MAX_PAGE_SIZE",
    "GetCustomerOrders",
    "GetCustomerSummary",
    "GetOrderById",
    "GetProjectionStatuses",
    "OrderFilter",
    "OrderSortField",
    "SearchOrders",
    "SortOrder",
]
