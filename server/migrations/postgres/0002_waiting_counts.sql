-- Waiting tickets per service and class, kept by triggers so that issuing and the board never
-- have to count a long line (as migrations/sqlite/0002_waiting_counts.sql). Every write of a
-- branch holds the branch row's lock, so two servers never update one count at once.
CREATE TABLE waiting_counts (
    branch_id       BIGINT NOT NULL,
    service_code    TEXT NOT NULL,
    priority        BOOLEAN NOT NULL,
    n               BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, service_code, priority)
);

CREATE FUNCTION tickets_waiting_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.status = 'waiting' THEN
        UPDATE waiting_counts SET n = n - 1
        WHERE branch_id = OLD.branch_id AND service_code = OLD.service_code AND priority = OLD.priority;
    END IF;
    IF NEW.status = 'waiting' THEN
        INSERT INTO waiting_counts (branch_id, service_code, priority, n)
        VALUES (NEW.branch_id, NEW.service_code, NEW.priority, 1)
        ON CONFLICT (branch_id, service_code, priority) DO UPDATE SET n = waiting_counts.n + 1;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tickets_waiting_insert AFTER INSERT ON tickets
FOR EACH ROW WHEN (NEW.status = 'waiting')
EXECUTE FUNCTION tickets_waiting_count();

CREATE TRIGGER tickets_waiting_update AFTER UPDATE OF status, service_code, priority ON tickets
FOR EACH ROW WHEN (OLD.status = 'waiting' OR NEW.status = 'waiting')
EXECUTE FUNCTION tickets_waiting_count();
