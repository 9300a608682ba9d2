"""attestation on numbers, cached destination lookups"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0003'


def upgrade() -> None:
    with op.batch_alter_table('numbers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('attestation_level', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('attestation_basis', sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column('attestation_checked_at', sa.DateTime(timezone=True), nullable=True)
        )

    op.create_table('destination_lookups',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('workspace_id', sa.Uuid(), nullable=False),
    sa.Column('phone_e164', sa.String(length=20), nullable=False),
    sa.Column('field', sa.String(length=16), nullable=False),
    sa.Column('asked_with', sa.String(length=10), nullable=False),
    sa.Column('provider', sa.String(length=32), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('looked_up_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'], name=op.f('fk_destination_lookups_workspace_id_workspaces'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_destination_lookups')),
    sa.UniqueConstraint('workspace_id', 'phone_e164', 'field', 'asked_with', name=op.f('uq_destination_lookups_workspace_id'))
    )


def downgrade() -> None:
    op.drop_table('destination_lookups')
    with op.batch_alter_table('numbers', schema=None) as batch_op:
        batch_op.drop_column('attestation_checked_at')
        batch_op.drop_column('attestation_basis')
        batch_op.drop_column('attestation_level')
