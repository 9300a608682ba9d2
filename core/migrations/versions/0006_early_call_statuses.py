"""early call statuses: a carrier's call status that arrived before its call was stored"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0004'


def upgrade() -> None:
    op.create_table(
        'early_call_statuses',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('provider', sa.String(length=32), nullable=False),
        sa.Column('provider_call_id', sa.String(length=128), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('actor', sa.String(length=64), nullable=False),
        sa.Column('via', sa.String(length=16), nullable=False),
        sa.Column('received_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_early_call_statuses')),
    )
    op.create_index(
        op.f('ix_early_call_statuses_provider_call_id'),
        'early_call_statuses',
        ['provider_call_id'],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(
        op.f('ix_early_call_statuses_provider_call_id'), table_name='early_call_statuses'
    )
    op.drop_table('early_call_statuses')
