import type { PipeTransform } from '@nestjs/common';
import { TENANT_ID_PATTERN } from '../../../libs/contracts/src/index.js';
import { invalid } from '../../core/errors/domain-error.js';

/** `@Param('tenantId', tenantIdParam)`: a malformed tenant id is a 400 naming the field. */
export const tenantIdParam: PipeTransform<string, string> = {
  transform(value: string) {
    if (typeof value !== 'string' || !TENANT_ID_PATTERN.test(value))
      throw invalid('tenantId', 'is not a tenant id');
    return value;
  },
};
