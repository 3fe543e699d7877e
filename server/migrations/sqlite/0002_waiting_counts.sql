-- Waiting tickets per service and class, kept by triggers so that issuing and the board never
-- have to count a long line: with thousands waiting, every ticket would otherwise pay for them.
CREATE TABLE waiting_counts (
    branch_id       INTEGER NOT NULL,
    service_code    TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    n               INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (branch_id, service_code, priority)
);

CREATE TRIGGER tickets_waiting_insert AFTER INSERT ON tickets WHEN NEW.status = 'waiting'
BEGIN
    INSERT INTO waiting_counts (branch_id, service_code, priority, n)
    VALUES (NEW.branch_id, NEW.service_code, NEW.priority, 1)
    ON CONFLICT (branch_id, service_code, priority) DO UPDATE SET n = n + 1;
END;

CREATE TRIGGER tickets_waiting_update AFTER UPDATE OF status, service_code, priority ON tickets
WHEN OLD.status = 'waiting' OR NEW.status = 'waiting'
BEGIN
    UPDATE waiting_counts SET n = n - 1
    WHERE OLD.status = 'waiting'
      AND branch_id = OLD.branch_id AND service_code = OLD.service_code AND priority = OLD.priority;
    INSERT INTO waiting_counts (branch_id, service_code, priority, n)
    SELECT NEW.branch_id, NEW.service_code, NEW.priority, 1 WHERE NEW.status = 'waiting'
    ON CONFLICT (branch_id, service_code, priority) DO UPDATE SET n = n + 1;
END;
