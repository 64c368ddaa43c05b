"""The read side: read tables, projections and their runner, queries, read-your-writes."""

from readmodels.bus import Query, QueryBus, QueryResult
from readmodels.consistency import Consistency, ConsistencyProgress, ConsistencyWaiter
from readmodels.customer_summaries.queries import GetCustomerSummary
from readmodels.errors import InvalidQuery
from readmodels.hub import Subscription, UpdateHub
from readmodels.order_views.queries import (
    MAX_PAGE_SIZE,
    GetCustomerOrders,
    GetOrderById,
    OrderFilter,
    OrderSortField,
    SearchOrders,
    SortOrder,
)
from readmodels.projection import Projection
from readmodels.rebuild import RebuildProgress
from readmodels.runner import ProjectionRunner
from readmodels.status_queries import GetProjectionStatuses
from readmodels.views import (
    CustomerSummaryView,
    OrderPage,
    OrderStatus,
    OrderView,
    ProjectionState,
    ProjectionStatus,
)
from readmodels.wiring import ReadSide, default_projections, query_bus
from readmodels.worker import RetryPolicy

__all__ = [
    "MAX_PAGE_SIZE",
    "Consistency",
    "ConsistencyProgress",
    "ConsistencyWaiter",
    "CustomerSummaryView",
    "GetCustomerOrders",
    "GetCustomerSummary",
    "GetOrderById",
    "GetProjectionStatuses",
    "InvalidQuery",
    "OrderFilter",
    "OrderPage",
    "OrderSortField",
    "OrderStatus",
    "OrderView",
    "Projection",
    "ProjectionRunner",
    "ProjectionState",
    "ProjectionStatus",
    "Query",
    "QueryBus",
    "QueryResult",
    "ReadSide",
    "RebuildProgress",
    "RetryPolicy",
    "SearchOrders",
    "SortOrder",
    "Subscription",
    "UpdateHub",
    "default_projections",
    "query_bus",
]
