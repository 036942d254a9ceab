"""Products: reads for everyone, cached in Redis; writes for the admin token's holder."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from starlette.responses import JSONResponse, Response

from catalog.cache import ProductCache
from catalog.models import INT4_MAX, NewProduct, Page, Product, ProductChanges
from catalog.products import DuplicateSku, ProductHasOrders, ProductStore
from catalog.routes.admin import admin_route
from catalog.routes.errors import ErrorBody, error

ProductId = Path(..., ge=1, le=INT4_MAX)


def not_found(product_id: int) -> JSONResponse:
    return error(404, "Not Found", f"product {product_id} does not exist")


def product_routes(store: ProductStore, cache: ProductCache, admin_token: str) -> APIRouter:
    router = APIRouter(tags=["products"])
    admin = APIRouter(tags=["products"], route_class=admin_route(admin_token))

    # Cached reads answer the JSON text as stored: a hit is never parsed and serialized again.
    @router.get("/products", response_model=Page[Product])
    def list_products(
        limit: int = Query(20, ge=1, le=100), after: int = Query(0, ge=0, le=INT4_MAX)
    ) -> Response:
        json = cache.page(limit, after, lambda: store.list(limit, after))
        return Response(json, media_type="application/json")

    @router.get("/products/{product_id}", response_model=Product, responses={404: {"model": ErrorBody}})
    def get_product(product_id: int = ProductId) -> Response:
        json = cache.product(product_id, lambda: store.get(product_id))
        return not_found(product_id) if json is None else Response(json, media_type="application/json")

    @admin.post("/products", status_code=201, response_model=Product, responses={409: {"model": ErrorBody}})
    def create_product(new: NewProduct, response: Response) -> Product | JSONResponse:
        try:
            product = store.create(new)
        except DuplicateSku as conflict:
            return error(409, "Conflict", str(conflict))
        cache.product_changed(product.id)
        response.headers["location"] = f"/products/{product.id}"
        return product

    @admin.patch("/products/{product_id}", response_model=Product, responses={404: {"model": ErrorBody}})
    def update_product(changes: ProductChanges, product_id: int = ProductId) -> Product | JSONResponse:
        try:
            product = store.update(product_id, changes)
        except DuplicateSku as conflict:
            return error(409, "Conflict", str(conflict))
        if product is None:
            return not_found(product_id)
        cache.product_changed(product_id)
        return product

    @admin.delete("/products/{product_id}", status_code=204, response_class=Response)
    def delete_product(product_id: int = ProductId) -> Response:
        try:
            deleted = store.delete(product_id)
        except ProductHasOrders as conflict:
            return error(409, "Conflict", str(conflict))
        if not deleted:
            return not_found(product_id)
        cache.product_changed(product_id)
        return Response(status_code=204)

    router.include_router(admin)
    return router
