import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, ValidateIf } from 'class-validator';
import type { GatewaySubjectQuery } from '../../../../libs/contracts/src/index.js';

export class GatewaySubjectDto implements GatewaySubjectQuery {
  @ApiProperty({ description: "The token principal's subject: email, else preferred_username, else sub" })
  @IsString()
  @Length(1, 320)
  subject: string;

  @ApiProperty({
    nullable: true,
    type: String,
    description: "The token's sub claim (the IdP's user id), or null",
  })
  @ValidateIf((_o, value) => value !== null)
  @IsString()
  @Length(1, 256)
  sub: string | null;
}
