import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Length, Matches } from 'class-validator';

/** `PUT /v1/scan-schedule`: five cron fields (minute hour day-of-month month day-of-week), an IANA zone. */
export class ScheduleDto {
  @ApiProperty({ example: '0 3 * * *' })
  @IsString()
  @Length(9, 100)
  @Matches(/^[0-9A-Za-z*,/?#L-]+( [0-9A-Za-z*,/?#L-]+){4}$/, {
    message: 'cron must be five space-separated fields (minute hour day-of-month month day-of-week)',
  })
  cron!: string;

  @ApiPropertyOptional({ example: 'Europe/Paris', default: 'UTC' })
  @IsOptional()
  @IsString()
  @Length(1, 64)
  @Matches(/^[A-Za-z0-9_+/-]+$/, { message: 'timezone must be an IANA zone name' })
  timezone?: string;
}
