import { describe, expect, it } from '@jest/globals';
import { classNames, classesOfMethod, classesOfName, classesOfSql } from './classify.js';

describe('classesOfName', () => {
  it.each([
    ['read_file', ['read', 'filesystem']],
    ['writeFile', ['write', 'filesystem']],
    ['run_shell_command', ['execute']],
    ['execcommand', ['execute']],
    ['delete_repository', ['destructive']],
    ['drop-table', ['database', 'destructive']],
    ['http_request', ['network']],
    ['fetch_url', ['read', 'network']],
    ['sql_query', ['read', 'database']],
    ['r\u0435move_FILES', ['filesystem', 'destructive']],
    ['get_weather', ['read']],
    ['mapping_status', []],
    ['summarise', []],
  ])('%s → %j', (name, classes) => {
    expect(classNames(classesOfName(name))).toEqual(classes);
  });
});

describe('classesOfMethod', () => {
  it('reads for read/list/get methods', () => {
    expect(classNames(classesOfMethod('resources/read'))).toEqual(['read']);
    expect(classNames(classesOfMethod('tools/list'))).toEqual(['read']);
    expect(classNames(classesOfMethod('tools/call'))).toEqual([]);
  });
});

describe('classesOfSql', () => {
  it.each([
    ['SELECT * FROM t', ['read', 'database']],
    ['  insert into t values (1)', ['write', 'database']],
    ['UPDATE t SET a = 1', ['write', 'database']],
    ['drop table users', ['write', 'database', 'destructive']],
    ['select 1; DELETE FROM users', ['write', 'database', 'destructive']],
    ['TRUNCATE t', ['write', 'database', 'destructive']],
    ['what is the weather', []],
  ])('%s → %j', (sql, classes) => {
    expect(classNames(classesOfSql(sql))).toEqual(classes);
  });
});
