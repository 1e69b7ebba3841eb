-- FerretDB 1.24's PostgreSQL backend stores each document in one `_jsonb` column and turns an
-- index the application declares into a btree on `(_jsonb -> 'field')`. But it pushes an equality
-- filter down as `_jsonb -> 'field' @> value`, and `@>` is not a btree operator: every lookup on a
-- declared index scans the table. This trigger gives each such index a GIN twin on the same
-- expressions (jsonb_path_ops serves `@>`), so the stand-in uses its indexes as MongoDB would.
-- A GIN index on the whole `_jsonb` would not do: it serves `_jsonb @> ...`, not `_jsonb -> 'k' @> ...`.
-- Test stand-in only; idempotent (re-run by scripts/infra/postgres.sh on every `up`).
SET client_min_messages = warning;

CREATE OR REPLACE FUNCTION agora_gin_for_ferretdb_index() RETURNS event_trigger
LANGUAGE plpgsql AS $$
DECLARE
	created record;
	target record;
	expressions text;
BEGIN
	FOR created IN SELECT objid FROM pg_event_trigger_ddl_commands() WHERE command_tag = 'CREATE INDEX' LOOP
		SELECT i.indnkeyatts AS keys, ic.relname AS index_name, n.nspname AS schema_name, t.relname AS table_name, am.amname AS method
			INTO target
			FROM pg_index i
			JOIN pg_class ic ON ic.oid = i.indexrelid
			JOIN pg_am am ON am.oid = ic.relam
			JOIN pg_class t ON t.oid = i.indrelid
			JOIN pg_namespace n ON n.oid = t.relnamespace
			WHERE i.indexrelid = created.objid;
		-- Only FerretDB's btrees; the GIN twins made here come through this trigger too.
		CONTINUE WHEN target.method IS DISTINCT FROM 'btree';
		-- Top-level fields only: FerretDB pushes a dotted path down as `#>`, which these would not serve.
		-- pg_get_indexdef gives a key column as `((_jsonb -> 'field'::text))`, parentheses included.
		SELECT string_agg(def || ' jsonb_path_ops', ', ')
			INTO expressions
			FROM generate_series(1, target.keys) AS k, pg_get_indexdef(created.objid, k, false) AS def
			WHERE def ~ '^\(\(_jsonb -> ''[^'']+''::text\)\)$';
		CONTINUE WHEN expressions IS NULL;
		EXECUTE format(
			-- fastupdate off: entries go straight into the tree, so the planner's estimates see them at once.
			'CREATE INDEX IF NOT EXISTS %I ON %I.%I USING gin (%s) WITH (fastupdate = off)',
			left(target.index_name, 50) || '_' || left(md5(target.index_name), 8) || '_gin',
			target.schema_name,
			target.table_name,
			expressions
		);
	END LOOP;
END
$$;

DROP EVENT TRIGGER IF EXISTS agora_gin_for_ferretdb_index;
CREATE EVENT TRIGGER agora_gin_for_ferretdb_index ON ddl_command_end
	WHEN TAG IN ('CREATE INDEX')
	EXECUTE FUNCTION agora_gin_for_ferretdb_index();
