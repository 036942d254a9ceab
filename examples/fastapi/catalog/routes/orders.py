"""Orders: placing one takes the stock; 404 for an unknown product, 409 when the stock is short."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from prometheus_client import Counter
from starlette.responses import JSONResponse, Response

from catalog.cache import ProductCache
from catalog.models import INT4_MAX, NewOrder, Order, Page
from catalog.orders import InsufficientStock, OrderStore, Placed, UnknownProduct
from catalog.routes.errors import ErrorBody, error


def order_routes(store: OrderStore, cache: ProductCache, placed: Counter) -> APIRouter:
    router = APIRouter(tags=["orders"])

    @router.post(
        "/orders",
        status_code=201,
        response_model=Order,
        responses={404: {"model": ErrorBody}, 409: {"model": ErrorBody}},
    )
    def place_order(new: NewOrder, response: Response) -> Order | JSONResponse:
        result = store.place(new.product_id, new.quantity)
        if isinstance(result, Placed):
            placed.inc()
            # Stock is part of every product read: that product's cached reads are stale now.
            cache.product_changed(new.product_id)
            response.headers["location"] = f"/orders/{result.order.id}"
            return result.order
        if isinstance(result, UnknownProduct):
            return error(404, "Not Found", f"product {new.product_id} does not exist")
        assert isinstance(result, InsufficientStock)
        return error(
            409,
            "Conflict",
            f"only {result.available} in stock, {new.quantity} requested",
            available=result.available,
        )

    @router.get("/orders/{order_id}", response_model=Order, responses={404: {"model": ErrorBody}})
    def get_order(order_id: int = Path(..., ge=1, le=INT4_MAX)) -> Order | JSONResponse:
        order = store.get(order_id)
        return order if order else error(404, "Not Found", f"order {order_id} does not exist")

    @router.get("/orders", response_model=Page[Order])
    def list_orders(
        limit: int = Query(20, ge=1, le=100), after: int = Query(0, ge=0, le=INT4_MAX)
    ) -> Page[Order]:
        return store.list(limit, after)

    return router
