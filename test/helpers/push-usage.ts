/**
 * The usage errors of the push options `agents` and `scan` share (cli/push-options.ts): each must exit 2 with
 * this message in both commands.
 */
export function pushUsageErrors(key: string): Array<[string[], string]> {
  return [
    [['--source-id', 'has spaces'], '--source-id must be'],
    [['--push-url', 'https://cp.example.com'], 'pushing needs an API key'],
    [
      ['--push-url', 'http://cp.example.com', '--push-api-key', key],
      'refusing to send the API key over plain http',
    ],
    [['--push-url', 'not a url', '--push-api-key', key], 'not a valid absolute URL'],
    [
      ['--push-url', 'https://cp.example.com', '--push-api-key', `${key} x`],
      'the API key is empty or contains whitespace',
    ],
  ];
}
