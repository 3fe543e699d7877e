//! Personal data retention of complaints, on both backends: once the branch's period has
//! passed — counted from resolution, or from when it was taken for a complaint never resolved —
//! the contact and every text written about the customer (description, resolution, notes) are
//! cleared; younger complaints keep theirs, and a second purge finds nothing.

use chrono::{Duration, Utc};
use qhall_tests::{demo_store_on, pg_database, query_texts};

/// Five complaints (retention 180 days): resolved 181 and 10 days ago, open since 181 and 10
/// days, in progress since 181 days without a contact. Each has a note.
fn complaints_sql(now: chrono::DateTime<Utc>) -> String {
    let ago = |d: i64| (now - Duration::days(d)).timestamp_millis();
    let rows = [
        (1, "resolved", Some(ago(181)), ago(200), Some("13811112222")),
        (2, "resolved", Some(ago(10)), ago(200), Some("bob@y.cn")),
        (3, "open", None, ago(181), Some("13633334444")),
        (4, "open", None, ago(10), Some("13655556666")),
        (5, "assigned", None, ago(181), None),
    ];
    let mut sql = String::new();
    for (id, status, resolved, created, contact) in rows {
        let (resolution, resolved_at) = match resolved {
            Some(at) => ("'Apologised by phone'".to_owned(), at.to_string()),
            None => ("NULL".to_owned(), "NULL".to_owned()),
        };
        let contact = contact.map_or("NULL".to_owned(), |c| format!("'{c}'"));
        sql.push_str(&format!(
            "INSERT INTO complaints (id, branch_id, staff_user_id, category, description, \
             contact_consent, contact, status, resolution, resolved_at, created_at, due_at) \
             VALUES ({id}, 1, (SELECT id FROM users WHERE username = 'staff1'), 'waiting', \
             'Mr Wang waited an hour with his mother', {consent}, {contact}, '{status}', \
             {resolution}, {resolved_at}, {created}, {due});\n\
             INSERT INTO complaints_history (complaint_id, user_id, at, text) \
             VALUES ({id}, (SELECT id FROM users WHERE username = 'manager'), {created}, \
             'Called Mr Wang back');\n",
            consent = if contact == "NULL" { "FALSE" } else { "TRUE" },
            due = created + 15 * 86_400_000,
        ));
    }
    sql
}

async fn unresolved_complaints_lose_their_personal_data_after_the_period_too(url: &str) {
    let now = Utc::now();
    let store = demo_store_on(url, &complaints_sql(now)).await;
    assert_eq!(store.purge_complaint_contacts(now).await.unwrap(), 3);
    let row = |id: i64| {
        format!(
            "SELECT COALESCE(contact, '-') || '|' || description || '|' || COALESCE(resolution, '-') \
             || '|' || status || '|' || category || '|' || \
             (SELECT {agg} FROM complaints_history WHERE complaint_id = {id}) \
             FROM complaints WHERE id = {id}",
            agg = if url.starts_with("postgres") {
                "string_agg(text, ',')"
            } else {
                "group_concat(text, ',')"
            }
        )
    };
    let kept = "Mr Wang waited an hour with his mother";
    assert_eq!(
        query_texts(url, &row(1)).await,
        ["-||-|resolved|waiting|"],
        "resolved 181 days ago"
    );
    assert_eq!(
        query_texts(url, &row(2)).await,
        [format!(
            "bob@y.cn|{kept}|Apologised by phone|resolved|waiting|Called Mr Wang back"
        )],
        "resolved 10 days ago"
    );
    assert_eq!(
        query_texts(url, &row(3)).await,
        ["-||-|open|waiting|"],
        "open since 181 days"
    );
    assert_eq!(
        query_texts(url, &row(4)).await,
        [format!(
            "13655556666|{kept}|-|open|waiting|Called Mr Wang back"
        )],
        "open since 10 days"
    );
    assert_eq!(
        query_texts(url, &row(5)).await,
        ["-||-|assigned|waiting|"],
        "in progress since 181 days"
    );
    let audit = query_texts(
        url,
        "SELECT detail FROM audit_log WHERE action = 'complaint.purge'",
    )
    .await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert!(audit[0].contains("[1,3,5]"), "{audit:?}");
    assert!(!audit[0].contains("Wang") && !audit[0].contains("1381111"));
    // Nothing is left to purge.
    assert_eq!(store.purge_complaint_contacts(now).await.unwrap(), 0);
    store.close().await;
}

#[tokio::test]
async fn unresolved_complaints_lose_their_contact_and_texts_after_the_period_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("q.db").display());
    unresolved_complaints_lose_their_personal_data_after_the_period_too(&url).await;
}

#[tokio::test]
async fn unresolved_complaints_lose_their_contact_and_texts_after_the_period_on_postgresql() {
    let Some(pg) = pg_database().await else {
        return;
    };
    unresolved_complaints_lose_their_personal_data_after_the_period_too(&pg.url).await;
}
