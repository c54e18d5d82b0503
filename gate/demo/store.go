package demo

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"

	_ "modernc.org/sqlite" // the "sqlite" database/sql driver: SQLite in pure Go
)

// Products is how many products the sample API's database holds: ids 1 to Products.
const Products = 20000

// store is the sample API's database: SQLite (modernc.org/sqlite, pure Go) in memory,
// behind a database/sql pool. A request holds one of the pool's connections for its
// query and for the latency the API is set to (the database's time), so a small pool
// is a real limit: requests past it wait for a connection, and the pool's statistics
// (sql.DBStats, exposed at /metrics) show it.
type store struct {
	db *sql.DB
	// keep holds the in-memory database open while the pool has no connection: it
	// lives as long as one connection to it does.
	keep *sql.DB
}

// openStore creates the database with its products and a pool of at most pool
// connections (0: no limit).
func openStore(pool int) (*store, error) {
	name := make([]byte, 8)
	_, _ = rand.Read(name) // crypto/rand.Read never fails on supported platforms
	dsn := "file:perfgate-demo-" + hex.EncodeToString(name) + "?mode=memory&cache=shared"
	keep, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, err
	}
	keep.SetMaxOpenConns(1)
	keep.SetConnMaxIdleTime(0)
	if _, err := keep.Exec("CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price REAL NOT NULL, stock INTEGER NOT NULL)"); err != nil {
		_ = keep.Close()
		return nil, fmt.Errorf("creating the products: %w", err)
	}
	if _, err := keep.Exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "+
		"INSERT INTO products SELECT i, 'Product ' || i, (i % 9000 + 100) / 10.0, i % 97 FROM n", Products); err != nil {
		_ = keep.Close()
		return nil, fmt.Errorf("creating the products: %w", err)
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		_ = keep.Close()
		return nil, err
	}
	db.SetMaxOpenConns(pool)
	// Keep every connection the pool opens: one closed and opened again per request
	// would make the pool's size a limit of its own.
	if pool > 0 {
		db.SetMaxIdleConns(pool)
	} else {
		db.SetMaxIdleConns(256)
	}
	return &store{db: db, keep: keep}, nil
}

// conn takes a connection from the pool, waiting for one while all are in use.
func (st *store) conn(ctx context.Context) (*sql.Conn, error) { return st.db.Conn(ctx) }

// list is the page of up to n products from id from.
func list(ctx context.Context, c *sql.Conn, from, n int) ([]product, error) {
	rows, err := c.QueryContext(ctx, "SELECT id, name, price, stock FROM products WHERE id >= ? ORDER BY id LIMIT ?", from, n)
	if err != nil {
		return nil, err
	}
	defer rows.Close() //nolint:errcheck // read-only; rows.Err is checked below
	out := make([]product, 0, n)
	for rows.Next() {
		var p product
		if err := rows.Scan(&p.ID, &p.Name, &p.Price, &p.Stock); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// get is the product of id, or false when there is none.
func get(ctx context.Context, c *sql.Conn, id int) (product, bool, error) {
	var p product
	err := c.QueryRowContext(ctx, "SELECT id, name, price, stock FROM products WHERE id = ?", id).Scan(&p.ID, &p.Name, &p.Price, &p.Stock)
	if err == sql.ErrNoRows {
		return p, false, nil
	}
	return p, err == nil, err
}

func (st *store) close() error {
	err := st.db.Close()
	if kerr := st.keep.Close(); err == nil {
		err = kerr
	}
	return err
}
