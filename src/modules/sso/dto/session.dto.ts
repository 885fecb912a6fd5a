import { ApiProperty } from '@nestjs/swagger';
import { IsString, Length, Matches } from 'class-validator';

export class CreateSessionDto {
  @ApiProperty({
    description: 'An API key (abom_…) of a human role; it is verified, never stored in the session',
  })
  @IsString()
  @Length(10, 200)
  @Matches(/^abom_[A-Za-z0-9_-]+$/, { message: 'api_key must be an agent-bom API key (abom_…)' })
  api_key: string;
}
