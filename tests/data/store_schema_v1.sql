-- The restricted store as the previous release (schema version 1, senacs_workbench/store.py at
-- commit 640ae92) wrote it after one import: its DDL verbatim, then the rows it inserted.
-- No coherence table: in version 1 they were created by coherence/findings.py on first use.
-- tests/test_store_schema.py builds a DuckDB file from this script and opens it with the
-- current workbench (migration to the current schema).
CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
CREATE TABLE IF NOT EXISTS imports (
        import_id INTEGER PRIMARY KEY,
        year INTEGER NOT NULL,
        file_name VARCHAR NOT NULL,
        sha256 VARCHAR NOT NULL,
        archived_path VARCHAR NOT NULL,
        imported_at TIMESTAMP NOT NULL,
        imported_by VARCHAR NOT NULL,
        rows INTEGER NOT NULL,
        rejected_rows INTEGER NOT NULL DEFAULT 0,
        UNIQUE (sha256, year));
CREATE TABLE IF NOT EXISTS data_versions (
        year INTEGER NOT NULL,
        version INTEGER NOT NULL,
        import_id INTEGER,
        created_at TIMESTAMP NOT NULL,
        created_by VARCHAR NOT NULL,
        n_structures INTEGER NOT NULL,
        n_answers BIGINT NOT NULL,
        kind VARCHAR NOT NULL,
        PRIMARY KEY (year, version));
CREATE TABLE IF NOT EXISTS structures (
        year INTEGER NOT NULL,
        version INTEGER NOT NULL,
        structure_id VARCHAR NOT NULL,
        nom_structure VARCHAR,
        code_commune VARCHAR,
        departement VARCHAR,
        region VARCHAR,
        epci VARCHAR,
        respondent BOOLEAN NOT NULL,
        PRIMARY KEY (year, version, structure_id));
CREATE TABLE IF NOT EXISTS answers (
        year INTEGER NOT NULL,
        version INTEGER NOT NULL,
        structure_id VARCHAR NOT NULL,
        variable VARCHAR NOT NULL,
        value VARCHAR NOT NULL,
        value_num DOUBLE,
        provenance VARCHAR NOT NULL,
        entered_by VARCHAR NOT NULL,
        entered_at TIMESTAMP NOT NULL,
        import_id INTEGER);
INSERT INTO meta VALUES ('schema_version', '1');
INSERT INTO imports VALUES (1, 2024, 'senacs_2024.csv', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa',
    'restricted/imports/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.csv',
    TIMESTAMP '2025-03-01 09:00:00', 'prep', 2, 0);
INSERT INTO data_versions VALUES (2024, 1, 1, TIMESTAMP '2025-03-01 09:00:00', 'prep', 2, 4, 'import');
INSERT INTO structures VALUES
    (2024, 1, 'S000001', 'Centre social Élan', '24322', '24', '75', '200040392', TRUE),
    (2024, 1, 'S000002', 'EVS Le Lien', '59350', '59', '32', '200093201', TRUE);
INSERT INTO answers VALUES
    (2024, 1, 'S000001', 'budget_total', '250000', 250000, 'centre', 'prep', TIMESTAMP '2025-03-01 09:00:00', 1),
    (2024, 1, 'S000001', 'salaries', '10', 10, 'caf', 'prep', TIMESTAMP '2025-03-01 09:00:00', 1),
    (2024, 1, 'S000002', 'budget_total', '251000', 251000, 'centre', 'prep', TIMESTAMP '2025-03-01 09:00:00', 1),
    (2024, 1, 'S000002', 'salaries', '17', 17, 'federation', 'prep', TIMESTAMP '2025-03-01 09:00:00', 1);
