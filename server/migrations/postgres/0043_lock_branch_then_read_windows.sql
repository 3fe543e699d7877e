-- A window's operation locks its branch's row and reads the branch's windows in one round trip
-- (store::postgres::tx, `lock_branch`). Until now one statement did both: `SELECT … FROM
-- branches JOIN windows … FOR UPDATE OF branches`. But a statement reads what was committed
-- when it started, and the lock may wait for another writer of the branch: the branch's row is
-- then read again as that writer left it, its windows are not. Six call-nexts sent at once to
-- one window each saw the window free and each called a ticket (tests/tests/window_races.rs).
--
-- Here the lock is taken by one function and the windows are read by another, joined
-- laterally so it runs after the first has returned: each statement of a volatile function
-- reads what was committed when that statement started, so the windows are read under the
-- lock, with every change of the writers before.

CREATE FUNCTION qhall_lock_branch(b BIGINT, OUT id BIGINT, OUT branch_version BIGINT, OUT branch_seq BIGINT)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    SELECT x.id, x.config_version, x.event_seq INTO id, branch_version, branch_seq
    FROM branches x WHERE x.id = b FOR UPDATE;
END;
$$;

CREATE FUNCTION qhall_branch_windows(b BIGINT) RETURNS SETOF windows
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN QUERY SELECT * FROM windows WHERE branch_id = b ORDER BY number;
END;
$$;
