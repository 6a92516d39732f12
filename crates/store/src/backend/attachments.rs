//! Citizens' photos (mounted once per backend, see sqlite.rs and postgres.rs).

use super::*;

impl Db {
    /// Stores a checked upload, not yet linked to a request.
    pub async fn add_attachment(
        &self,
        content_type: &str,
        bytes: &[u8],
        now: Timestamp,
    ) -> Result<i64> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO attachments (request_id, content_type, size, bytes, created_at) VALUES (NULL, $1, $2, $3, $4) RETURNING id",
        )
        .bind(content_type)
        .bind(bytes.len() as i64)
        .bind(bytes)
        .bind(ms(now))
        .fetch_one(&self.write)
        .await?;
        Ok(id)
    }

    /// Links uploads to the request they came with.
    pub async fn link_attachments(&self, ids: &[i64], request_id: i64) -> Result<()> {
        for id in ids {
            sqlx::query(
                "UPDATE attachments SET request_id = $1 WHERE id = $2 AND request_id IS NULL",
            )
            .bind(request_id)
            .bind(id)
            .execute(&self.write)
            .await?;
        }
        Ok(())
    }

    pub async fn attachments(&self, request_id: i64) -> Result<Vec<AttachmentMeta>> {
        let rows: Vec<(i64, String, i64, i64)> = sqlx::query_as(
            "SELECT id, content_type, size, created_at FROM attachments WHERE request_id = $1 ORDER BY id",
        )
        .bind(request_id)
        .fetch_all(&self.read)
        .await?;
        rows.into_iter()
            .map(|(id, content_type, size, at)| {
                Ok(AttachmentMeta {
                    id,
                    content_type,
                    size,
                    created_at: ts(at)?,
                })
            })
            .collect()
    }

    pub async fn attachment_bytes(&self, id: i64) -> Result<Option<Vec<u8>>> {
        Ok(sqlx::query_scalar(
            "SELECT bytes FROM attachments WHERE id = $1 AND request_id IS NOT NULL",
        )
        .bind(id)
        .fetch_optional(&self.read)
        .await?)
    }

    /// Drops uploads never linked to a request (their intake failed) older than `before`.
    pub async fn purge_unlinked_attachments(&self, before: Timestamp) -> Result<u64> {
        Ok(
            sqlx::query("DELETE FROM attachments WHERE request_id IS NULL AND created_at < $1")
                .bind(ms(before))
                .execute(&self.write)
                .await?
                .rows_affected(),
        )
    }
}
