//! The [`Store`](super::Store) operations both backends share, written once.
//!
//! `impl_store!` expands to the whole trait impl for a backend type. The backend supplies
//! only what truly differs: `pool` (where reads go), `writer()` (where every write goes:
//! each INSERT, UPDATE and DELETE, and the migrations), `close_pools`, `begin_write` (a
//! transaction on the writer that serialises writers to a board), `append_batch` (numbers
//! a batch and inserts it into the log, in one transaction, returning the batch's last
//! sequence number) and `LOCK_BOARD` (the statement that locks a board's row for a
//! transaction) and `admission_row` (one caller as a `VALUES` row of the admission read),
//! `LOCK_FEED` (the statement, if any, that orders writers of the change feed),
//! `LOCK_ASSETS` (the statement, if any, that orders image uploads to one board, given the
//! board id as text) and `open_subscription` (the feed's push notifications, if the backend
//! has them).
//! Nothing here knows which database it talks to.
//!
//! Every change to who may do what records its [`Event`](super::Event) in the change feed
//! (`access_events`) in the same transaction, as the transaction's last statement: the
//! event exists exactly when the change does, whichever process made it.
//!
//! Every statement that changes anything runs on `writer()` or inside `begin_write`; only
//! reads use `pool` (SQLite opens those connections `query_only`, so a write misfiled here
//! fails its test instead of contending for the write lock).

/// Implements [`Store`](super::Store) for `$store`, a backend over `$db`.
macro_rules! impl_store {
    ($store:ty, $db:ty, $backend:expr, $migrator:expr) => {
        impl $store {
            /// Locks a board's row for the rest of the transaction and returns its last seq.
            async fn lock_board(
                tx: &mut sqlx::Transaction<'static, $db>,
                board: BoardId,
            ) -> Result<i64> {
                sqlx::query_scalar::<_, i64>(Self::LOCK_BOARD)
                    .bind(board.as_uuid())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound("board"))
            }

            /// The role a member holds now, with the board locked.
            async fn locked_member_role(
                tx: &mut sqlx::Transaction<'static, $db>,
                board: BoardId,
                user: &UserId,
            ) -> Result<Role> {
                Self::lock_board(tx, board).await?;
                let role: String = sqlx::query_scalar(sql::MEMBER_ROLE)
                    .bind(board.as_uuid())
                    .bind(user.as_str())
                    .fetch_optional(&mut **tx)
                    .await?
                    .ok_or(StoreError::NotFound("member"))?;
                Ok(Role::parse(&role)?)
            }

            /// Records `events` in the change feed as part of `tx`. Call it last, right before
            /// the commit: where the backend orders feed writers with a lock, it is held from
            /// here to the commit, so ids become visible in the order they were given.
            async fn record(
                tx: &mut sqlx::Transaction<'static, $db>,
                events: &[Event],
            ) -> Result<()> {
                if let Some(lock) = Self::LOCK_FEED {
                    sqlx::query(lock).execute(&mut **tx).await?;
                }
                let now = now_ms();
                for event in events {
                    sqlx::query(sql::INSERT_EVENT)
                        .bind(now)
                        .bind(event.encode())
                        .execute(&mut **tx)
                        .await?;
                }
                Ok(())
            }

            async fn ensure_not_last_owner(
                tx: &mut sqlx::Transaction<'static, $db>,
                board: BoardId,
            ) -> Result<()> {
                let owners: i64 = sqlx::query_scalar(sql::COUNT_OWNERS)
                    .bind(board.as_uuid())
                    .fetch_one(&mut **tx)
                    .await?;
                if owners <= 1 {
                    return Err(StoreError::LastOwner);
                }
                Ok(())
            }
        }

        #[async_trait::async_trait]
        impl Store for $store {
            fn backend(&self) -> Backend {
                $backend
            }

            async fn migrate(&self) -> Result<()> {
                $migrator.run(self.writer()).await?;
                Ok(())
            }

            async fn ping(&self) -> Result<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn close(&self) {
                self.close_pools().await;
            }

            async fn create_board(&self, new: &NewBoard) -> Result<Board> {
                let now = now_ms();
                let mut tx = self.begin_write().await?;
                let row: BoardRow = sqlx::query_as(sql::INSERT_BOARD)
                    .bind(new.id.as_uuid())
                    .bind(new.name.as_str())
                    .bind(new.owner.as_str())
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| conflict_on_unique(e, "a board with this id already exists"))?;
                sqlx::query(sql::INSERT_MEMBER)
                    .bind(new.id.as_uuid())
                    .bind(new.owner.as_str())
                    .bind(Role::Owner.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                row.try_into()
            }

            async fn get_board(&self, id: BoardId) -> Result<Board> {
                sqlx::query_as::<_, BoardRow>(sql::GET_BOARD)
                    .bind(id.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound("board"))?
                    .try_into()
            }

            async fn list_boards(&self, query: &BoardQuery) -> Result<BoardPage> {
                let size = query.page_size()?;
                let rows: Vec<BoardRow> = sqlx::query_as(sql::LIST_BOARDS)
                    .bind(query.member.as_ref().map(UserId::as_str))
                    .bind(query.name_pattern())
                    .bind(query.archived as i32)
                    .bind(query.after.map(|c| c.updated_at))
                    .bind(query.after.map(|c| c.id.as_uuid()))
                    .bind(i64::from(size) + 1)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(BoardPage::from_rows(convert(rows)?, size))
            }

            async fn rename_board(&self, id: BoardId, name: &BoardName) -> Result<Board> {
                sqlx::query_as::<_, BoardRow>(sql::RENAME_BOARD)
                    .bind(id.as_uuid())
                    .bind(name.as_str())
                    .bind(now_ms())
                    .fetch_optional(self.writer())
                    .await?
                    .ok_or(StoreError::NotFound("board"))?
                    .try_into()
            }

            async fn set_archived(&self, id: BoardId, archived: bool) -> Result<Board> {
                sqlx::query_as::<_, BoardRow>(sql::ARCHIVE_BOARD)
                    .bind(id.as_uuid())
                    .bind(archived)
                    .bind(now_ms())
                    .fetch_optional(self.writer())
                    .await?
                    .ok_or(StoreError::NotFound("board"))?
                    .try_into()
            }

            async fn delete_board(&self, id: BoardId) -> Result<()> {
                let mut tx = self.begin_write().await?;
                let done = sqlx::query(sql::DELETE_BOARD)
                    .bind(id.as_uuid())
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("board"));
                }
                Self::record(&mut tx, &[Event::BoardDeleted { board: id }]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn add_member(
                &self,
                board: BoardId,
                user: &UserId,
                role: Role,
            ) -> Result<Member> {
                let now = now_ms();
                let mut tx = self.begin_write().await?;
                sqlx::query(sql::INSERT_MEMBER)
                    .bind(board.as_uuid())
                    .bind(user.as_str())
                    .bind(role.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            StoreError::NotFound("board")
                        }
                        _ => conflict_on_unique(e, "the user is already a member of this board"),
                    })?;
                let event = Event::Member {
                    board,
                    user: user.clone(),
                    role: Some(role),
                };
                Self::record(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(Member {
                    user: user.clone(),
                    role,
                    added_at: now,
                })
            }

            async fn set_member_role(
                &self,
                board: BoardId,
                user: &UserId,
                role: Role,
            ) -> Result<Member> {
                let mut tx = self.begin_write().await?;
                let current = Self::locked_member_role(&mut tx, board, user).await?;
                if current == Role::Owner && role != Role::Owner {
                    Self::ensure_not_last_owner(&mut tx, board).await?;
                }
                let row: MemberRow = sqlx::query_as(sql::UPDATE_MEMBER)
                    .bind(board.as_uuid())
                    .bind(user.as_str())
                    .bind(role.as_str())
                    .fetch_one(&mut *tx)
                    .await?;
                let event = Event::Member {
                    board,
                    user: user.clone(),
                    role: Some(role),
                };
                Self::record(&mut tx, &[event]).await?;
                tx.commit().await?;
                row.try_into()
            }

            async fn remove_member(&self, board: BoardId, user: &UserId) -> Result<()> {
                let mut tx = self.begin_write().await?;
                if Self::locked_member_role(&mut tx, board, user).await? == Role::Owner {
                    Self::ensure_not_last_owner(&mut tx, board).await?;
                }
                sqlx::query(sql::DELETE_MEMBER)
                    .bind(board.as_uuid())
                    .bind(user.as_str())
                    .execute(&mut *tx)
                    .await?;
                let event = Event::Member {
                    board,
                    user: user.clone(),
                    role: None,
                };
                Self::record(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn list_members(&self, board: BoardId) -> Result<Vec<Member>> {
                let rows: Vec<MemberRow> = sqlx::query_as(sql::LIST_MEMBERS)
                    .bind(board.as_uuid())
                    .fetch_all(&self.pool)
                    .await?;
                if rows.is_empty() {
                    self.get_board(board).await?;
                }
                convert(rows)
            }

            async fn role_of(&self, board: BoardId, user: &UserId) -> Result<Option<Role>> {
                let row: Option<Option<String>> = sqlx::query_scalar(sql::ROLE_OF)
                    .bind(board.as_uuid())
                    .bind(user.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
                match row {
                    None => Err(StoreError::NotFound("board")),
                    Some(role) => Ok(role.as_deref().map(Role::parse).transpose()?),
                }
            }

            async fn roles_on(
                &self,
                user: &UserId,
                boards: &[BoardId],
            ) -> Result<HashMap<BoardId, Role>> {
                let mut roles = HashMap::with_capacity(boards.len());
                for chunk in boards.chunks(ROLES_ON_CHUNK) {
                    let mut query = sqlx::QueryBuilder::<$db>::new(sql::ROLES_ON);
                    query.push_bind(user.as_str()).push(" AND board_id IN (");
                    let mut ids = query.separated(", ");
                    for board in chunk {
                        ids.push_bind(board.as_uuid());
                    }
                    query.push(")");
                    let rows: Vec<(uuid::Uuid, String)> =
                        query.build_query_as().fetch_all(&self.pool).await?;
                    for (board, role) in rows {
                        roles.insert(BoardId::from(board), Role::parse(&role)?);
                    }
                }
                Ok(roles)
            }

            async fn create_link(&self, new: &NewLink<'_>) -> Result<ShareLink> {
                let role = new.validated_role()?;
                sqlx::query_as::<_, ShareLinkRow>(sql::INSERT_LINK)
                    .bind(new.id)
                    .bind(new.board.as_uuid())
                    .bind(new.token_hash)
                    .bind(role.as_str())
                    .bind(new.created_by.map(UserId::as_str))
                    .bind(now_ms())
                    .bind(new.expires_at)
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            StoreError::NotFound("board")
                        }
                        _ => conflict_on_unique(
                            e,
                            "a share link with this id or token already exists",
                        ),
                    })?
                    .try_into()
            }

            async fn list_links(&self, board: BoardId) -> Result<Vec<ShareLink>> {
                self.get_board(board).await?;
                let rows: Vec<ShareLinkRow> = sqlx::query_as(sql::LIST_LINKS)
                    .bind(board.as_uuid())
                    .fetch_all(&self.pool)
                    .await?;
                convert(rows)
            }

            async fn get_link(&self, board: BoardId, id: uuid::Uuid) -> Result<ShareLink> {
                sqlx::query_as::<_, ShareLinkRow>(sql::GET_LINK)
                    .bind(board.as_uuid())
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound("link"))?
                    .try_into()
            }

            async fn find_link(&self, token_hash: &[u8]) -> Result<Option<ShareLink>> {
                sqlx::query_as::<_, ShareLinkRow>(sql::LINK_BY_HASH)
                    .bind(token_hash)
                    .fetch_optional(&self.pool)
                    .await?
                    .map(ShareLink::try_from)
                    .transpose()
            }

            async fn delete_link(&self, board: BoardId, id: uuid::Uuid) -> Result<Vec<UserId>> {
                let mut tx = self.begin_write().await?;
                // Locking the board orders this against `join_via_link`: nobody joins through
                // the link between the memberships' removal and the link's.
                Self::lock_board(&mut tx, board)
                    .await
                    .map_err(|e| match e {
                        StoreError::NotFound(_) => StoreError::NotFound("link"),
                        e => e,
                    })?;
                let removed: Vec<String> = sqlx::query_scalar(sql::DELETE_LINK_MEMBERS)
                    .bind(board.as_uuid())
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await?;
                let done = sqlx::query(sql::DELETE_LINK)
                    .bind(board.as_uuid())
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("link"));
                }
                let mut users = removed
                    .iter()
                    .map(|u| UserId::parse(u))
                    .collect::<Result<Vec<_>, _>>()?;
                users.sort();
                let events: Vec<Event> = users
                    .iter()
                    .map(|user| Event::Member {
                        board,
                        user: user.clone(),
                        role: None,
                    })
                    .chain([Event::LinkRevoked { board, link: id }])
                    .collect();
                Self::record(&mut tx, &events).await?;
                tx.commit().await?;
                Ok(users)
            }

            async fn join_via_link(
                &self,
                board: BoardId,
                user: &UserId,
                link: uuid::Uuid,
                role: Role,
            ) -> Result<Role> {
                let role = link_role(role)?;
                let mut tx = self.begin_write().await?;
                Self::lock_board(&mut tx, board).await?;
                sqlx::query_scalar::<_, uuid::Uuid>(sql::LINK_ON_BOARD)
                    .bind(board.as_uuid())
                    .bind(link)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("link"))?;
                let held: Option<String> = sqlx::query_scalar(sql::MEMBER_ROLE)
                    .bind(board.as_uuid())
                    .bind(user.as_str())
                    .fetch_optional(&mut *tx)
                    .await?;
                let held = held.as_deref().map(Role::parse).transpose()?;
                let effective = match held {
                    None => {
                        sqlx::query(sql::INSERT_LINK_MEMBER)
                            .bind(board.as_uuid())
                            .bind(user.as_str())
                            .bind(role.as_str())
                            .bind(now_ms())
                            .bind(link)
                            .execute(&mut *tx)
                            .await?;
                        role
                    }
                    Some(held) if role > held => {
                        sqlx::query(sql::RAISE_LINK_MEMBER)
                            .bind(board.as_uuid())
                            .bind(user.as_str())
                            .bind(role.as_str())
                            .bind(link)
                            .execute(&mut *tx)
                            .await?;
                        role
                    }
                    Some(held) => held,
                };
                if held != Some(effective) {
                    let event = Event::Member {
                        board,
                        user: user.clone(),
                        role: Some(effective),
                    };
                    Self::record(&mut tx, &[event]).await?;
                }
                tx.commit().await?;
                Ok(effective)
            }

            async fn append_updates(
                &self,
                board: BoardId,
                updates: &[Vec<u8>],
            ) -> Result<SeqRange> {
                validate_batch(updates)?;
                let last = self.append_batch(board, updates, now_ms()).await?;
                Ok(SeqRange {
                    first: last - updates.len() as i64 + 1,
                    last,
                })
            }

            async fn load(&self, board: BoardId) -> Result<StoredDoc> {
                // One statement, so one consistent read (a concurrent compaction cannot make
                // us see the old snapshot together with a log it has already trimmed) and
                // one round trip: a reconnect storm over many boards loads each of them.
                let rows: Vec<sql::LoadRow> = sqlx::query_as(sql::LOAD)
                    .bind(board.as_uuid())
                    .fetch_all(&self.pool)
                    .await?;
                sql::stored_doc(rows)
            }

            async fn load_after(
                &self,
                board: BoardId,
                after: i64,
                limit: u32,
            ) -> Result<StoredDoc> {
                let rows: Vec<sql::LoadRow> = sqlx::query_as(sql::LOAD_AFTER)
                    .bind(board.as_uuid())
                    .bind(after)
                    .bind(i64::from(limit.max(1)))
                    .fetch_all(&self.pool)
                    .await?;
                sql::stored_doc(rows)
            }

            async fn relay(&self, messages: &[String]) -> Result<()> {
                self.relay_messages(messages).await
            }

            async fn compact(
                &self,
                board: BoardId,
                state: &[u8],
                encoding: Encoding,
                up_to_seq: i64,
            ) -> Result<bool> {
                let mut tx = self.begin_write().await?;
                let last_seq = Self::lock_board(&mut tx, board).await?;
                validate_up_to(up_to_seq, last_seq)?;
                let current: Option<i64> = sqlx::query_scalar(sql::SNAPSHOT_SEQ)
                    .bind(board.as_uuid())
                    .fetch_optional(&mut *tx)
                    .await?;
                if current.is_some_and(|seq| seq >= up_to_seq) {
                    return Ok(false);
                }
                sqlx::query(sql::UPSERT_SNAPSHOT)
                    .bind(board.as_uuid())
                    .bind(up_to_seq)
                    .bind(state)
                    .bind(encoding.as_str())
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(sql::DELETE_COVERED)
                    .bind(board.as_uuid())
                    .bind(up_to_seq)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn create_version_within(
                &self,
                new: &NewVersion<'_>,
                max: u32,
            ) -> Result<Version> {
                let version = Version {
                    id: uuid::Uuid::now_v7(),
                    board: new.board,
                    label: new.validated_label()?,
                    seq: new.seq,
                    created_by: new.created_by.cloned(),
                    created_at: now_ms(),
                };
                let mut tx = self.begin_write().await?;
                Self::lock_board(&mut tx, new.board).await?;
                let held: i64 = sqlx::query_scalar(sql::COUNT_VERSIONS)
                    .bind(new.board.as_uuid())
                    .fetch_one(&mut *tx)
                    .await?;
                if held >= i64::from(max) {
                    return Err(StoreError::TooManyVersions(max));
                }
                sqlx::query(sql::INSERT_VERSION)
                    .bind(version.id)
                    .bind(new.board.as_uuid())
                    .bind(&version.label)
                    .bind(version.seq)
                    .bind(new.state)
                    .bind(new.created_by.map(UserId::as_str))
                    .bind(version.created_at)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(version)
            }

            async fn list_versions(&self, board: BoardId) -> Result<Vec<Version>> {
                self.get_board(board).await?;
                let rows: Vec<VersionRow> = sqlx::query_as(sql::LIST_VERSIONS)
                    .bind(board.as_uuid())
                    .fetch_all(&self.pool)
                    .await?;
                convert(rows)
            }

            async fn get_version(
                &self,
                board: BoardId,
                version: uuid::Uuid,
            ) -> Result<(Version, Vec<u8>)> {
                sqlx::query_as::<_, VersionStateRow>(sql::GET_VERSION)
                    .bind(board.as_uuid())
                    .bind(version)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound("version"))?
                    .try_into()
            }

            async fn stored_size(&self, board: BoardId) -> Result<i64> {
                sqlx::query_scalar(sql::STORED_SIZE)
                    .bind(board.as_uuid())
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound("board"))
            }

            async fn put_asset(&self, new: &NewAsset<'_>, max_board_bytes: u64) -> Result<Asset> {
                new.validate()?;
                let id = asset_id(new.bytes);
                let mut tx = self.begin_write().await?;
                if let Some(lock) = Self::LOCK_ASSETS {
                    sqlx::query(lock)
                        .bind(new.board.as_uuid().to_string())
                        .execute(&mut *tx)
                        .await?;
                }
                let stored: Option<sql::AssetRow> = sqlx::query_as(sql::FIND_ASSET)
                    .bind(new.board.as_uuid())
                    .bind(&id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if let Some(stored) = stored {
                    return stored.try_into();
                }
                let held: i64 = sqlx::query_scalar(sql::ASSET_BYTES)
                    .bind(new.board.as_uuid())
                    .fetch_one(&mut *tx)
                    .await?;
                let size = new.bytes.len() as u64;
                if (held.max(0) as u64).saturating_add(size) > max_board_bytes {
                    return Err(StoreError::AssetsFull(max_board_bytes));
                }
                let row: sql::AssetRow = sqlx::query_as(sql::INSERT_ASSET)
                    .bind(new.board.as_uuid())
                    .bind(&id)
                    .bind(new.mime)
                    .bind(new.width as i32)
                    .bind(new.height as i32)
                    .bind(new.bytes)
                    .bind(size as i64)
                    .bind(now_ms())
                    .fetch_one(&mut *tx)
                    .await
                    .map_err(|e| match &e {
                        sqlx::Error::Database(db) if db.is_foreign_key_violation() => {
                            StoreError::NotFound("board")
                        }
                        _ => e.into(),
                    })?;
                tx.commit().await?;
                row.try_into()
            }

            async fn get_asset(&self, board: BoardId, id: &str) -> Result<(Asset, Vec<u8>)> {
                if !is_asset_id(id) {
                    return Err(StoreError::NotFound("asset"));
                }
                sqlx::query_as::<_, sql::AssetBytesRow>(sql::GET_ASSET)
                    .bind(board.as_uuid())
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound("asset"))?
                    .try_into()
            }

            async fn create_user(&self, new: &NewUser) -> Result<User> {
                let email = new.normalized_email()?;
                sqlx::query_as::<_, UserRow>(sql::INSERT_USER)
                    .bind(new.id.as_str())
                    .bind(email)
                    .bind(&new.name)
                    .bind(new.password_hash.as_deref())
                    .bind(new.admin)
                    .bind(now_ms())
                    .fetch_one(self.writer())
                    .await
                    .map_err(|e| {
                        conflict_on_unique(e, "a user with this email or id already exists")
                    })?
                    .try_into()
            }

            async fn get_user(&self, id: &UserId) -> Result<User> {
                sqlx::query_as::<_, UserRow>(sql::GET_USER)
                    .bind(id.as_str())
                    .fetch_optional(&self.pool)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?
                    .try_into()
            }

            async fn find_user_by_email(&self, email: &str) -> Result<Option<User>> {
                sqlx::query_as::<_, UserRow>(sql::USER_BY_EMAIL)
                    .bind(email.trim().to_lowercase())
                    .fetch_optional(&self.pool)
                    .await?
                    .map(User::try_from)
                    .transpose()
            }

            async fn list_users(&self, query: &UserQuery) -> Result<UserPage> {
                let size = page_size(query.limit)?;
                let rows: Vec<UserRow> = sqlx::query_as(sql::LIST_USERS)
                    .bind(query.after.as_ref().map(UserId::as_str))
                    .bind(i64::from(size) + 1)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(UserPage::from_rows(convert(rows)?, size))
            }

            async fn set_user_disabled(&self, id: &UserId, disabled: bool) -> Result<User> {
                let mut tx = self.begin_write().await?;
                let user: User = sqlx::query_as::<_, UserRow>(sql::DISABLE_USER)
                    .bind(id.as_str())
                    .bind(disabled)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?
                    .try_into()?;
                let event = Event::UserDisabled {
                    user: id.clone(),
                    disabled,
                };
                Self::record(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn set_user_admin(&self, id: &UserId, admin: bool) -> Result<User> {
                let mut tx = self.begin_write().await?;
                let user: User = sqlx::query_as::<_, UserRow>(sql::SET_ADMIN)
                    .bind(id.as_str())
                    .bind(admin)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or(StoreError::NotFound("user"))?
                    .try_into()?;
                let event = Event::Admin {
                    user: id.clone(),
                    admin,
                };
                Self::record(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(user)
            }

            async fn set_password(&self, id: &UserId, hash: &str) -> Result<()> {
                if hash.is_empty() {
                    return Err(StoreError::Invalid(
                        "a password hash must not be empty".into(),
                    ));
                }
                let done = sqlx::query(sql::SET_PASSWORD)
                    .bind(id.as_str())
                    .bind(hash)
                    .execute(self.writer())
                    .await?;
                if done.rows_affected() == 0 {
                    return Err(StoreError::NotFound("user"));
                }
                Ok(())
            }

            async fn append_audit(&self, entry: &NewAudit<'_>) -> Result<AuditEntry> {
                sqlx::query_as::<_, AuditRow>(sql::INSERT_AUDIT)
                    .bind(now_ms())
                    .bind(entry.actor)
                    .bind(entry.validated_action()?)
                    .bind(entry.board.map(|b| b.as_uuid()))
                    .bind(entry.target)
                    .bind(entry.details_json()?)
                    .fetch_one(self.writer())
                    .await?
                    .try_into()
            }

            async fn list_audit(&self, query: &AuditQuery) -> Result<AuditPage> {
                let size = page_size(query.limit)?;
                let rows: Vec<AuditRow> = sqlx::query_as(sql::LIST_AUDIT)
                    .bind(query.board.map(|b| b.as_uuid()))
                    .bind(query.actor.as_deref())
                    .bind(query.action.as_deref())
                    .bind(query.before)
                    .bind(i64::from(size) + 1)
                    .fetch_all(&self.pool)
                    .await?;
                Ok(AuditPage::from_rows(convert(rows)?, size))
            }

            async fn revoke_token(
                &self,
                user: &UserId,
                jti: &str,
                expires_at: Millis,
            ) -> Result<()> {
                if jti.is_empty() {
                    return Err(StoreError::Invalid("a token id must not be empty".into()));
                }
                let mut tx = self.begin_write().await?;
                sqlx::query(sql::PURGE_REVOKED)
                    .bind(now_ms())
                    .execute(&mut *tx)
                    .await?;
                sqlx::query(sql::INSERT_REVOKED)
                    .bind(jti)
                    .bind(expires_at)
                    .execute(&mut *tx)
                    .await?;
                let event = Event::TokenRevoked {
                    user: user.clone(),
                    jti: jti.to_owned(),
                };
                Self::record(&mut tx, &[event]).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn is_token_revoked(&self, jti: &str) -> Result<bool> {
                let found: Option<String> = sqlx::query_scalar(sql::IS_REVOKED)
                    .bind(jti)
                    .fetch_optional(&self.pool)
                    .await?;
                Ok(found.is_some())
            }

            async fn admissions(
                &self,
                board: BoardId,
                callers: &[AdmissionCaller<'_>],
            ) -> Result<Vec<Admission>> {
                if callers.is_empty() {
                    return Ok(Vec::new());
                }
                if callers.len() > MAX_ADMISSIONS {
                    return Err(StoreError::Invalid(format!(
                        "at most {MAX_ADMISSIONS} admissions in one read"
                    )));
                }
                let rows: Vec<String> = (0..callers.len())
                    .map(|i| Self::admission_row(i, 2 + 3 * i))
                    .collect();
                // Built from numbers and constants only: nothing a caller sent is in the text.
                let text = sqlx::AssertSqlSafe(sql::admissions(&rows));
                let mut query = sqlx::query_as::<_, sql::AdmissionRow>(text).bind(board.as_uuid());
                for caller in callers {
                    query = query
                        .bind(caller.user.as_str())
                        .bind(caller.jti)
                        .bind(caller.link);
                }
                let rows = query.fetch_all(&self.pool).await?;
                if rows.len() != callers.len()
                    || rows.iter().enumerate().any(|(i, r)| r.i != i as i64)
                {
                    return Err(StoreError::Invalid(
                        "the admission read answered out of order".into(),
                    ));
                }
                sql::convert(rows)
            }

            async fn latest_event_id(&self) -> Result<i64> {
                Ok(sqlx::query_scalar(sql::LATEST_EVENT)
                    .fetch_one(&self.pool)
                    .await?)
            }

            async fn events_after(&self, after: i64, limit: u32) -> Result<Vec<FeedEvent>> {
                let rows: Vec<(i64, i64, String)> = sqlx::query_as(sql::EVENTS_AFTER)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.pool)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, at, payload)| FeedEvent {
                        id,
                        at,
                        event: Event::decode(&payload),
                    })
                    .collect())
            }

            async fn prune_events(&self, before: Millis) -> Result<u64> {
                let done = sqlx::query(sql::PRUNE_EVENTS)
                    .bind(before)
                    .execute(self.writer())
                    .await?;
                Ok(done.rows_affected())
            }

            async fn subscribe(&self) -> Result<Option<Box<dyn Subscription>>> {
                self.open_subscription().await
            }

            async fn counts(&self) -> Result<Counts> {
                let (boards, archived_boards, users, disabled_users): (i64, i64, i64, i64) =
                    sqlx::query_as(sql::COUNTS).fetch_one(&self.pool).await?;
                Ok(Counts {
                    boards,
                    archived_boards,
                    users,
                    disabled_users,
                })
            }
        }
    };
}

pub(super) use impl_store;
