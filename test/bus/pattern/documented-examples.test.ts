/**
 * Every example from the two upstream references, with where it came from:
 * - RULER = aws/event-ruler README.md ("Ruler by Example", "$or", "JSON Array Matching" sections)
 * - GUIDE = Amazon EventBridge User Guide, doc_source/eb-event-patterns.md, eb-event-patterns-null-values.md,
 *   eb-event-patterns-arrays.md, eb-event-patterns-content-based-filtering.md, content-filtering-with-event-patterns.md,
 *   and the operator table of eb-create-pattern-operators.
 */
import { describe, expect, it } from 'vitest';
import { match } from './helpers.ts';

// RULER "Ruler by Example": the sample event every example in that section is matched against.
const RULER_EVENT = {
  version: '0',
  id: 'ddddd4-aaaa-7777-4444-345dd43cc333',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '012345679012',
  time: '2017-10-02T16:24:49Z',
  region: 'us-east-1',
  resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
  detail: {
    'c-count': 5,
    'd-count': 3,
    'x-limit': 301.8,
    'source-ip': '10.0.0.33',
    'instance-id': 'i-000000aaaaaa00000',
    state: 'running',
  },
};

describe('event-ruler README: "Ruler by Example" (all match the sample event)', () => {
  const matching: [string, unknown][] = [
    [
      'simple matching',
      {
        'detail-type': ['EC2 Instance State-change Notification'],
        resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
        detail: { state: ['initializing', 'running'] },
      },
    ],
    ['prefix matching', { time: [{ prefix: '2017-10-02' }] }],
    ['suffix matching', { source: [{ suffix: 'ec2' }] }],
    ['equals-ignore-case matching', { source: [{ 'equals-ignore-case': 'AWS.EC2' }] }],
    ['anything-but string', { detail: { state: [{ 'anything-but': 'initializing' }] } }],
    ['anything-but number', { detail: { 'x-limit': [{ 'anything-but': 123 }] } }],
    ['anything-but string list', { detail: { state: [{ 'anything-but': ['stopped', 'overloaded'] }] } }],
    ['anything-but number list', { detail: { 'x-limit': [{ 'anything-but': [100, 200, 300] }] } }],
    ['anything-but prefix', { detail: { state: [{ 'anything-but': { prefix: 'init' } }] } }],
    [
      'numeric matching',
      {
        detail: {
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ numeric: ['=', 3.018e2] }],
        },
      },
    ],
    ['IP address matching', { detail: { 'source-ip': [{ cidr: '10.0.0.0/24' }] } }],
    ['exists true', { detail: { 'c-count': [{ exists: true }] } }],
    [
      'complex example',
      {
        time: [{ prefix: '2017-10-02' }],
        detail: {
          state: [{ 'anything-but': 'initializing' }],
          'c-count': [{ numeric: ['>', 0, '<=', 5] }],
          'd-count': [{ numeric: ['<', 10] }],
          'x-limit': [{ 'anything-but': [100, 200, 300] }],
          'source-ip': [{ cidr: '10.0.0.0/8' }],
        },
      },
    ],
  ];
  it.each(matching)('%s', (_name, pattern) => expect(match(pattern, RULER_EVENT)).toBe(true));

  it('wildcard "Simple*Service" (RULER wildcard section) matches a service name', () => {
    expect(match({ source: [{ wildcard: 'Simple*Service' }] }, { source: 'SimpleQueueService' })).toBe(true);
  });

  it('exists false does not match the sample event, which has detail.c-count', () => {
    expect(match({ detail: { 'c-count': [{ exists: false }] } }, RULER_EVENT)).toBe(false);
  });

  it('exists false matches events without c-count, and where c-count is not a leaf', () => {
    const pattern = { detail: { 'c-count': [{ exists: false }] } };
    const without = {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000'],
      detail: { state: ['initializing', 'running'] },
    };
    const notLeaf = { ...without, detail: { ...without.detail, 'c-count': { c1: 100 } } };
    expect(match(pattern, without)).toBe(true);
    expect(match(pattern, notLeaf)).toBe(true);
  });
});

describe('event-ruler README: "$or" examples', () => {
  it('normal "Or": source && (metricName || namespace)', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
    };
    expect(match(pattern, { source: 'aws.cloudwatch', metricName: 'ReadLatency' })).toBe(true);
    expect(match(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/ES' })).toBe(true);
    expect(match(pattern, { source: 'aws.cloudwatch', namespace: 'AWS/S3' })).toBe(false);
  });

  it('parallel "Or": (metricName || namespace) && (detail.source || detail.detail-type)', () => {
    const pattern = {
      $or: [{ metricName: ['CPUUtilization', 'ReadLatency'] }, { namespace: ['AWS/EC2', 'AWS/ES'] }],
      detail: {
        $or: [{ source: ['aws.cloudwatch'] }, { 'detail-type': ['CloudWatch Alarm State Change'] }],
      },
    };
    expect(
      match(pattern, { namespace: 'AWS/EC2', detail: { 'detail-type': 'CloudWatch Alarm State Change' } }),
    ).toBe(true);
    expect(match(pattern, { namespace: 'AWS/EC2', detail: { source: 'aws.ec2' } })).toBe(false);
  });

  it('"Or" has an "And" inside', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] },
        { scope: ['Service'] },
      ],
    };
    expect(match(pattern, { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/ES' })).toBe(
      true,
    );
    expect(match(pattern, { source: 'aws.cloudwatch', metricType: 'MetricType' })).toBe(false);
    expect(match(pattern, { source: 'aws.cloudwatch', scope: 'Service' })).toBe(true);
  });

  it('nested "Or" and "And"', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: [
        { metricName: ['CPUUtilization', 'ReadLatency'] },
        {
          metricType: ['MetricType'],
          namespace: ['AWS/EC2', 'AWS/ES'],
          $or: [{ metricId: [1234] }, { spaceId: [1000] }],
        },
        { scope: ['Service'] },
      ],
    };
    const base = { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' };
    expect(match(pattern, { ...base, spaceId: 1000 })).toBe(true);
    expect(match(pattern, { ...base, spaceId: 1001 })).toBe(false);
  });

  it('"$or" holding an object stays an ordinary field name (backward compatibility)', () => {
    const pattern = {
      source: ['aws.cloudwatch'],
      $or: { metricType: ['MetricType'], namespace: ['AWS/EC2', 'AWS/ES'] },
    };
    expect(
      match(pattern, { source: 'aws.cloudwatch', $or: { metricType: 'MetricType', namespace: 'AWS/EC2' } }),
    ).toBe(true);
    expect(match(pattern, { source: 'aws.cloudwatch', metricType: 'MetricType', namespace: 'AWS/EC2' })).toBe(
      false,
    );
  });
});

describe('event-ruler README: "JSON Array Matching"', () => {
  const event = {
    employees: [
      { firstName: 'John', lastName: 'Doe' },
      { firstName: 'Anna', lastName: 'Smith' },
      { firstName: 'Peter', lastName: 'Jones' },
    ],
  };
  it('array structure is crushed out of the pattern', () => {
    expect(match({ employees: { firstName: ['Anna'] } }, event)).toBe(true);
  });
  it('works for multi-level arrays', () => {
    const nested = { employees: [[event.employees[0], event.employees[1]], [event.employees[2]]] };
    expect(match({ employees: { firstName: ['Anna'] } }, nested)).toBe(true);
  });
  it('does not combine fields of different elements (rulesForJSONEvent semantics)', () => {
    expect(match({ employees: { firstName: ['Anna'], lastName: ['Jones'] } }, event)).toBe(false);
  });
});

// GUIDE eb-event-patterns.md
const GUIDE_EC2_EVENT = {
  version: '0',
  id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
  'detail-type': 'EC2 Instance State-change Notification',
  source: 'aws.ec2',
  account: '111122223333',
  time: '2017-12-22T18:43:48Z',
  region: 'us-west-1',
  resources: ['arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0'],
  detail: { 'instance-id': 'i-1234567890abcdef0', state: 'terminated' },
};

// GUIDE eb-event-patterns.md and eb-event-patterns-null-values.md
const GUIDE_AUTOSCALING_EVENT = {
  version: '0',
  id: '3e3c153a-8339-4e30-8c35-687ebef853fe',
  'detail-type': 'EC2 Instance Launch Successful',
  source: 'aws.autoscaling',
  account: '123456789012',
  time: '2015-11-11T21:31:47Z',
  region: 'us-east-1',
  resources: [],
  detail: { eventVersion: '', responseElements: null },
};

describe('EventBridge user guide: event patterns', () => {
  it('EC2 instance-termination pattern (eb-event-patterns.md)', () => {
    const pattern = {
      source: ['aws.ec2'],
      'detail-type': ['EC2 Instance State-change Notification'],
      detail: { state: ['terminated'] },
    };
    expect(match(pattern, GUIDE_EC2_EVENT)).toBe(true);
    expect(match(pattern, { ...GUIDE_EC2_EVENT, detail: { state: 'running' } })).toBe(false);
  });

  it('match values: "source" is aws.ec2 or aws.fargate (eb-event-patterns.md)', () => {
    expect(match({ source: ['aws.ec2', 'aws.fargate'] }, GUIDE_EC2_EVENT)).toBe(true);
    expect(match({ source: ['aws.ec2', 'aws.fargate'] }, { source: 'aws.fargate' })).toBe(true);
  });

  it('field matching on a null responseElements (eb-event-patterns.md)', () => {
    const pattern = {
      source: ['aws.autoscaling'],
      'detail-type': ['EC2 Instance Launch Successful'],
      detail: { responseElements: [null] },
    };
    expect(match(pattern, GUIDE_AUTOSCALING_EVENT)).toBe(true);
  });

  it('value matching on the Macie risk scores (eb-event-patterns.md)', () => {
    const pattern = {
      source: ['aws.macie'],
      'detail-type': ['Macie Alert'],
      detail: { 'risk-score': [80], trigger: { risk: [8] } },
    };
    const event = {
      'detail-type': 'Macie Alert',
      source: 'aws.macie',
      detail: {
        'risk-score': 80,
        tags: ['Custom_Alert', 'Insider'],
        trigger: { 'alert-type': 'basic', risk: 8 },
      },
    };
    expect(match(pattern, event)).toBe(true);
    expect(match(pattern, { ...event, detail: { ...event.detail, 'risk-score': 79 } })).toBe(false);
  });

  it('empty string and null are not interchangeable (eb-event-patterns-null-values.md)', () => {
    expect(match({ detail: { eventVersion: [''] } }, GUIDE_AUTOSCALING_EVENT)).toBe(true);
    expect(match({ detail: { responseElements: [null] } }, GUIDE_AUTOSCALING_EVENT)).toBe(true);
    expect(match({ detail: { eventVersion: [null] } }, GUIDE_AUTOSCALING_EVENT)).toBe(false);
    expect(match({ detail: { responseElements: [''] } }, GUIDE_AUTOSCALING_EVENT)).toBe(false);
  });

  it('arrays: pattern and event arrays intersect (eb-event-patterns-arrays.md)', () => {
    const pattern = {
      resources: [
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f',
        'arn:aws:ec2:us-east-1:444455556666:instance/i-b188560f',
      ],
    };
    const event = {
      resources: [
        'arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:eb56d16b-bbf0-401d-b893-d5978ed4a025:autoScalingGroupName/ASGTerminate',
        'arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f',
      ],
    };
    expect(match(pattern, event)).toBe(true);
  });
});

describe('EventBridge user guide: content filtering', () => {
  it('prefix on time (eb-event-patterns-content-based-filtering.md)', () => {
    expect(match({ time: [{ prefix: '2017-10-02' }] }, { time: '2017-10-02T18:43:48Z' })).toBe(true);
  });

  it('Auto Scaling events from European regions (content-filtering-with-event-patterns.md)', () => {
    const pattern = { source: ['aws.autoscaling'], region: [{ prefix: 'eu-' }] };
    expect(match(pattern, { ...GUIDE_AUTOSCALING_EVENT, region: 'eu-west-1' })).toBe(true);
    expect(match(pattern, GUIDE_AUTOSCALING_EVENT)).toBe(false);
  });

  it('everything except CloudTrail API calls (content-filtering-with-event-patterns.md)', () => {
    const pattern = { 'detail-type': [{ 'anything-but': 'AWS API Call via CloudTrail' }] };
    expect(match(pattern, GUIDE_EC2_EVENT)).toBe(true);
    expect(match(pattern, { 'detail-type': 'AWS API Call via CloudTrail' })).toBe(false);
  });

  it('everything except EC2 and S3 (content-filtering-with-event-patterns.md)', () => {
    const pattern = { source: [{ 'anything-but': ['aws.ec2', 'aws.s3'] }] };
    expect(match(pattern, GUIDE_EC2_EVENT)).toBe(false);
    expect(match(pattern, GUIDE_AUTOSCALING_EVENT)).toBe(true);
  });

  it('only your own events: source not prefixed "aws." (content-filtering-with-event-patterns.md)', () => {
    const pattern = { source: [{ 'anything-but': { prefix: 'aws.' } }] };
    expect(match(pattern, GUIDE_EC2_EVENT)).toBe(false);
    expect(match(pattern, { source: 'rebound.alertmanager' })).toBe(true);
  });

  it('IP address matching on sourceIPAddress (eb-event-patterns-content-based-filtering.md)', () => {
    const pattern = { detail: { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] } };
    expect(match(pattern, { detail: { sourceIPAddress: '10.0.0.255' } })).toBe(true);
    expect(match(pattern, { detail: { sourceIPAddress: '10.0.1.0' } })).toBe(false);
  });

  it('exists true on detail.state, and its non-matching example (eb-event-patterns-content-based-filtering.md)', () => {
    const pattern = { detail: { state: [{ exists: true }] } };
    const matching = {
      version: '0',
      id: '7bf73129-1428-4cd3-a780-95db273d1602',
      'detail-type': 'EC2 Instance State-change Notification',
      source: 'aws.ec2',
      account: '123456789012',
      time: '2015-11-11T21:29:54Z',
      region: 'us-east-1',
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-abcd1111'],
      detail: { 'instance-id': 'i-abcd1111', state: 'pending' },
    };
    const notMatching = {
      'detail-type': ['EC2 Instance State-change Notification'],
      resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-02ebd4584a2ebd341'],
      detail: { 'c-count': { c1: 100 } },
    };
    expect(match(pattern, matching)).toBe(true);
    expect(match(pattern, notMatching)).toBe(false);
  });

  it('exists true on description (content-filtering-with-event-patterns.md)', () => {
    expect(match({ detail: { description: [{ exists: true }] } }, { detail: { description: 'x' } })).toBe(
      true,
    );
  });

  it('a key given twice: the last one is used (eb-event-patterns-content-based-filtering.md)', () => {
    // JSON text is needed here: an object literal cannot hold the same key twice.
    const text = '{"detail":{"location":[{"prefix":"us-"}],"location":[{"anything-but":"us-east"}]}}';
    expect(match(text, { detail: { location: 'eu-west' } })).toBe(true);
    expect(match(text, { detail: { location: 'us-east' } })).toBe(false);
  });
});

// Rows up to "Begins with (ignore case)" were checked against the stored copy of the table; the later rows were
// not in the excerpt we could read and follow the published table from memory of its wording.
describe('EventBridge user guide: comparison operator table (eb-create-pattern-operators)', () => {
  const cases: [string, unknown, unknown, boolean][] = [
    ['And', { Location: ['New York'], Day: ['Monday'] }, { Location: 'New York', Day: 'Monday' }, true],
    ['Anything-but', { state: [{ 'anything-but': 'initializing' }] }, { state: 'running' }, true],
    [
      'Anything-but (begins with)',
      { Region: [{ 'anything-but': { prefix: 'us-' } }] },
      { Region: 'us-east-1' },
      false,
    ],
    [
      'Anything-but (ends with)',
      { FileName: [{ 'anything-but': { suffix: '.png' } }] },
      { FileName: 'a.png' },
      false,
    ],
    [
      'Anything-but (ignore case)',
      { state: [{ 'anything-but': { 'equals-ignore-case': 'initializing' } }] },
      { state: 'INITIALIZING' },
      false,
    ],
    [
      'Anything-but using a wildcard',
      { FilePath: [{ 'anything-but': { wildcard: '*/lib/*' } }] },
      { FilePath: '/usr/lib/libc.so' },
      false,
    ],
    ['Begins with', { Region: [{ prefix: 'us-' }] }, { Region: 'us-west-2' }, true],
    [
      'Begins with (ignore case)',
      { service: [{ prefix: { 'equals-ignore-case': 'eventb' } }] },
      { service: 'EventBridge' },
      true,
    ],
    ['Empty', { LastName: [''] }, { LastName: '' }, true],
    ['Equals', { Name: ['Alice'] }, { Name: 'Alice' }, true],
    ['Equals (ignore case)', { Name: [{ 'equals-ignore-case': 'alice' }] }, { Name: 'Alice' }, true],
    ['Ends with', { FileName: [{ suffix: '.png' }] }, { FileName: 'photo.png' }, true],
    [
      'Ends with (ignore case)',
      { service: [{ suffix: { 'equals-ignore-case': 'tBridge' } }] },
      { service: 'EVENTBRIDGE' },
      true,
    ],
    ['Exists', { ProductName: [{ exists: true }] }, { ProductName: 'x' }, true],
    ['Does not exist', { ProductName: [{ exists: false }] }, {}, true],
    ['Not', { Weather: [{ 'anything-but': ['Raining'] }] }, { Weather: 'Sunny' }, true],
    ['Null', { UserID: [null] }, { UserID: null }, true],
    ['Numeric (equals)', { Price: [{ numeric: ['=', 100] }] }, { Price: 100 }, true],
    ['Numeric (range)', { Price: [{ numeric: ['>', 10, '<=', 20] }] }, { Price: 15 }, true],
    [
      'Or (across fields)',
      { $or: [{ Location: ['New York'] }, { Day: ['Monday'] }] },
      { Location: 'Paris', Day: 'Monday' },
      true,
    ],
    ['Or (values)', { PaymentType: ['Credit', 'Debit'] }, { PaymentType: 'Debit' }, true],
    ['Wildcard', { FileName: [{ wildcard: 'dir/*.png' }] }, { FileName: 'dir/cat.png' }, true],
    ['IP address', { sourceIPAddress: [{ cidr: '10.0.0.0/24' }] }, { sourceIPAddress: '10.0.0.9' }, true],
  ];
  it.each(cases)('%s', (_name, pattern, event, expected) => expect(match(pattern, event)).toBe(expected));
});
