//! Invitations on DynamoDB: each is two items, the project's and the invitee's mirror
//! (`PK = INVITEE#<email>`, so "my invitations" is one `Query`), always written and
//! deleted together; accepting turns them into a membership and its mirror in the same
//! transaction.

use taskapi_domain::{Invitation, MAX_MEMBERS, Membership, Role, StoreError};

use crate::DynamoStore;
use crate::project_item::{
    self as items, MEMBERS, OWNERS, Reader, invitation_item, invitation_key, invitation_mirror_key,
    meta_key,
};
use crate::transact::Write;

impl DynamoStore {
    pub(crate) async fn put_invitation(&self, invitation: &Invitation) -> Result<(), StoreError> {
        let own_key = invitation_key(&invitation.invitation_id);
        let writes = vec![
            // A project deleted meanwhile gets no invitation.
            Write::check(meta_key(&invitation.project_id)).when("attribute_exists(PK)"),
            Write::put(invitation_item(own_key, invitation)),
            Write::put(invitation_item(
                invitation_mirror_key(invitation),
                invitation,
            )),
        ];
        self.transact(writes).await.map_err(|refused| {
            if refused.at(0) {
                StoreError::NotFound
            } else {
                refused.otherwise()
            }
        })
    }

    /// The invitations in partition `pk` (a project's or an invitee's), oldest first.
    pub(crate) async fn invitations_in(&self, pk: String) -> Result<Vec<Invitation>, StoreError> {
        let mut invitations = self
            .items_under(pk, taskapi_domain::keys::INVITATION_PREFIX)
            .await?
            .iter()
            .map(|item| Reader(item).invitation())
            .collect::<Result<Vec<_>, _>>()?;
        invitations.sort_by(|a, b| {
            (&a.created_at, a.invitation_id.as_str())
                .cmp(&(&b.created_at, b.invitation_id.as_str()))
        });
        Ok(invitations)
    }

    pub(crate) async fn accept_invitation(
        &self,
        invitation: &Invitation,
        member: &Membership,
    ) -> Result<(), StoreError> {
        let max = i64::try_from(MAX_MEMBERS).expect("the member limit is small");
        let mut counts =
            Write::update(meta_key(&member.project_id), format!("ADD #{MEMBERS} :one"))
                .name(MEMBERS);
        if member.role == Role::Owner {
            counts = Write::update(
                meta_key(&member.project_id),
                format!("ADD #{MEMBERS} :one, #{OWNERS} :one"),
            )
            .name(MEMBERS)
            .name(OWNERS);
        }
        let writes = vec![
            Write::delete(invitation_key(&invitation.invitation_id)).when("attribute_exists(PK)"),
            Write::delete(invitation_mirror_key(invitation)),
            Write::put(items::member_item(member)).when("attribute_not_exists(PK)"),
            Write::put(items::mirror_item(member)),
            counts
                .number(":one", 1)
                .number(":max", max)
                .when(format!("attribute_exists(PK) AND #{MEMBERS} < :max")),
        ];
        match self.transact(writes).await {
            Ok(()) => Ok(()),
            Err(refused) if refused.at(0) => Err(StoreError::NotFound),
            Err(refused) if refused.at(2) => Err(StoreError::AlreadyMember),
            Err(refused) if refused.at(4) => {
                // The project is gone, or full: one read on this failure path tells which.
                match self.get_item(meta_key(&member.project_id)).await? {
                    None => Err(StoreError::NotFound),
                    Some(_) => Err(StoreError::ProjectFull),
                }
            }
            Err(refused) => Err(refused.otherwise()),
        }
    }

    pub(crate) async fn delete_invitation(
        &self,
        invitation: &Invitation,
    ) -> Result<(), StoreError> {
        let writes = vec![
            Write::delete(invitation_key(&invitation.invitation_id)).when("attribute_exists(PK)"),
            Write::delete(invitation_mirror_key(invitation)),
        ];
        self.transact(writes).await.map_err(|refused| {
            if refused.at(0) {
                StoreError::NotFound
            } else {
                refused.otherwise()
            }
        })
    }
}
