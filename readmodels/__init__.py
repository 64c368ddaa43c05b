"""The read side's one face: what the API and the command line use of it.

Wings, each with one job: the read models themselves (`order_views/`,
`customer_summaries/`), running them (`running/`), their status (`status/`), and
querying them (`querying/`). `read_side.py` assembles them; docs/architecture.md maps it.
"""

from readmodels.customer_summaries.queries import GetCustomerSummary
from readmodels.errors import InvalidQuery
from readmodels.order_views.connections import (
    GetCustomerOrderConnection,
    OrderConnection,
    PageWindow,
    SearchOrderConnection,
)
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
from readmodels.querying.consistency import Consistency, ConsistencyProgress, ConsistencyWaiter
from readmodels.querying.query_bus import Query, QueryBus, QueryResult
from readmodels.querying.read_session import ReadSession
from readmodels.read_side import ReadSide, default_projections, query_bus
from readmodels.results import (
    BuildStatus,
    CustomerSummaryView,
    OrderPage,
    OrderStatus,
    OrderView,
    ProjectionState,
    ProjectionStatus,
)
from readmodels.running.applier import OtherVersionLive, RetryPolicy
from readmodels.running.observation import ProjectionObserver
from readmodels.running.rebuild import RebuildInProgress, RebuildProgress
from readmodels.running.runner import ProjectionRunner
from readmodels.running.shadow_build import ShadowBuildFailed
from readmodels.status.queries import GetProjectionStatuses
from readmodels.status.status_hub import StatusHub, StatusStream
from readmodels.status.statuses import read_statuses

__all__ = [
    "MAX_PAGE_SIZE",
    "BuildStatus",
    "Consistency",
    "ConsistencyProgress",
    "ConsistencyWaiter",
    "CustomerSummaryView",
    "GetCustomerOrderConnection",
    "GetCustomerOrders",
    "GetCustomerSummary",
    "GetOrderById",
    "GetProjectionStatuses",
    "InvalidQuery",
    "OrderConnection",
    "OrderFilter",
    "OrderPage",
    "OrderSortField",
    "OrderStatus",
    "OrderView",
    "OtherVersionLive",
    "PageWindow",
    "Projection",
    "ProjectionObserver",
    "ProjectionRunner",
    "ProjectionState",
    "ProjectionStatus",
    "Query",
    "QueryBus",
    "QueryResult",
    "ReadSession",
    "ReadSide",
    "RebuildInProgress",
    "RebuildProgress",
    "RetryPolicy",
    "SearchOrderConnection",
    "SearchOrders",
    "ShadowBuildFailed",
    "SortOrder",
    "StatusHub",
    "StatusStream",
    "default_projections",
    "query_bus",
    "read_statuses",
]
