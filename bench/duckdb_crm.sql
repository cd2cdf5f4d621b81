-- The DuckDB reference, step 1: the CRM files as tables (the demo's plain CSV formats:
-- numbers without currency signs, ISO dates, empty = unknown). Parameters: $accounts_csv,
-- $users_csv, $contracts_csv. Statements are separated by ";" at a line end.

CREATE OR REPLACE TABLE crm_accounts AS
SELECT * FROM read_csv($accounts_csv, header = true, columns = {
    'account_id': 'VARCHAR', 'name': 'VARCHAR', 'arr': 'DOUBLE', 'seats': 'INTEGER',
    'plan': 'VARCHAR', 'csm_email': 'VARCHAR', 'renewal_date': 'DATE', 'created_at': 'DATE',
    'industry': 'VARCHAR', 'region': 'VARCHAR', 'strategic': 'VARCHAR'
});

CREATE OR REPLACE TABLE crm_users AS
SELECT * FROM read_csv($users_csv, header = true, columns = {
    'user_id': 'VARCHAR', 'account_id': 'VARCHAR', 'email': 'VARCHAR', 'role': 'VARCHAR'
});

CREATE OR REPLACE TABLE crm_contracts AS
SELECT * FROM read_csv($contracts_csv, header = true, columns = {
    'contract_id': 'VARCHAR', 'account_id': 'VARCHAR', 'start': 'DATE', 'end': 'DATE',
    'arr': 'DOUBLE', 'status': 'VARCHAR'
});
