/** Products in Postgres. Rows are mapped to the API's camelCase shape here and nowhere else. */
import type pg from "pg";
import { KEYSET_PAGE_SQL, type Page, toPage } from "../db/pagination.js";

export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  stock: number;
  createdAt: string;
  updatedAt: string;
}

export type NewProduct = Pick<Product, "sku" | "name" | "priceCents" | "stock"> & {
  description?: string | undefined;
};
export type ProductChanges = Partial<NewProduct>;

interface ProductRow {
  id: number;
  sku: string;
  name: string;
  description: string;
  price_cents: number;
  stock: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = "id, sku, name, description, price_cents, stock, created_at, updated_at";

const toProduct = (row: ProductRow): Product => ({
  id: row.id,
  sku: row.sku,
  name: row.name,
  description: row.description,
  priceCents: row.price_cents,
  stock: row.stock,
  createdAt: row.created_at.toISOString(),
  updatedAt: row.updated_at.toISOString(),
});

export class DuplicateSkuError extends Error {}
export class ProductHasOrdersError extends Error {}

const isPgError = (error: unknown, code: string) => (error as { code?: string }).code === code;

export class ProductStore {
  constructor(private readonly db: pg.Pool) {}

  async list(limit: number, after: number): Promise<Page<Product>> {
    const { rows } = await this.db.query<ProductRow>(`SELECT ${COLUMNS} FROM products ${KEYSET_PAGE_SQL}`, [
      after,
      limit + 1,
    ]);
    return toPage(rows, limit, toProduct);
  }

  async get(id: number): Promise<Product | null> {
    const { rows } = await this.db.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE id = $1`, [id]);
    return rows[0] ? toProduct(rows[0]) : null;
  }

  /** The products with these ids that exist, in no particular order. */
  async getMany(ids: number[]): Promise<Product[]> {
    const { rows } = await this.db.query<ProductRow>(
      `SELECT ${COLUMNS} FROM products WHERE id = ANY($1::integer[])`,
      [ids],
    );
    return rows.map(toProduct);
  }

  async create(input: NewProduct): Promise<Product> {
    try {
      const { rows } = await this.db.query<ProductRow>(
        `INSERT INTO products (sku, name, description, price_cents, stock) VALUES ($1, $2, $3, $4, $5)
         RETURNING ${COLUMNS}`,
        [input.sku, input.name, input.description ?? "", input.priceCents, input.stock],
      );
      return toProduct(rows[0] as ProductRow);
    } catch (error) {
      if (isPgError(error, "23505"))
        throw new DuplicateSkuError(`a product with sku "${input.sku}" already exists`);
      throw error;
    }
  }

  async update(id: number, changes: ProductChanges): Promise<Product | null> {
    try {
      const { rows } = await this.db.query<ProductRow>(
        `UPDATE products SET
           sku = COALESCE($2, sku), name = COALESCE($3, name), description = COALESCE($4, description),
           price_cents = COALESCE($5, price_cents), stock = COALESCE($6, stock), updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, changes.sku, changes.name, changes.description, changes.priceCents, changes.stock],
      );
      return rows[0] ? toProduct(rows[0]) : null;
    } catch (error) {
      if (isPgError(error, "23505"))
        throw new DuplicateSkuError(`a product with sku "${changes.sku}" already exists`);
      throw error;
    }
  }

  async delete(id: number): Promise<boolean> {
    try {
      const { rowCount } = await this.db.query("DELETE FROM products WHERE id = $1", [id]);
      return rowCount === 1;
    } catch (error) {
      if (isPgError(error, "23503"))
        throw new ProductHasOrdersError("the product has orders and cannot be deleted");
      throw error;
    }
  }
}
