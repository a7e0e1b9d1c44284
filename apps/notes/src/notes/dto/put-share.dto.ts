import { IsIn } from 'class-validator';
import { SHARE_KINDS, type ShareKind } from '../note.policy';

/** Body of `PUT /notes/:id/shares/:subject`: which kind of share. Unknown fields are refused (400), not ignored. */
export class PutShareDto {
  @IsIn(SHARE_KINDS)
  role!: ShareKind;
}
