import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length } from 'class-validator';

export class IntrospectDto {
  @ApiProperty({ description: 'The API key a client presented to the gateway' })
  @IsString()
  @Length(1, 200)
  token: string;
}
