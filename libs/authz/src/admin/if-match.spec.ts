import { BadRequestException } from '@nestjs/common';
import { etagOf, parseIfMatch } from './if-match';

describe('parseIfMatch', () => {
  describe('when there is no header', () => {
    it('should give no condition', () => {
      expect(parseIfMatch(undefined)).toBeUndefined();
    });
  });

  describe('when the header names one revision', () => {
    it.each([
      ['"7"', 7],
      ['W/"7"', 7],
      ['7', 7],
      [' "12" ', 12],
      ['"0"', 0],
      [etagOf(123456789012345), 123456789012345],
    ])('should read %p as %p', (header, revision) => {
      expect(parseIfMatch(header)).toBe(revision);
    });
  });

  describe('when the header is anything else', () => {
    it.each(['', '*', '"a"', '"7', '7"', 'w/"7"', '"7", "8"', '"-1"', '"1.5"', '"1234567890123456"', 'W/7'])('should refuse %p with a 400 naming If-Match', (header) => {
      expect(() => parseIfMatch(header)).toThrow(BadRequestException);
      try {
        parseIfMatch(header);
      } catch (error) {
        expect((error as BadRequestException).getResponse()).toMatchObject({ statusCode: 400, field: 'If-Match' });
      }
    });

    it('should refuse a repeated header given as a list', () => {
      expect(() => parseIfMatch(['"1"', '"2"'])).toThrow(BadRequestException);
    });
  });
});
