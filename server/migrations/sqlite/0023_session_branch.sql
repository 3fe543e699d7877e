-- An admin's session works in one branch at a time (the manager pages' branch switcher);
-- empty for everyone else, whose branch is their own.
ALTER TABLE sessions ADD COLUMN branch_id INTEGER REFERENCES branches (id);
