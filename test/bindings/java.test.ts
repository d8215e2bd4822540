import { JAVA } from './languages';
import { describeLanguage } from './same-manifests';

// jsii's Java runtime throws RuntimeException, and its subclass JsiiError for an error thrown by a constructor
// (the jsii kernel does not wrap constructors); both are unchecked. It appends the JavaScript stack to the message.
describeLanguage(JAVA, {
  errorTypes: {
    constructor: 'software.amazon.jsii.JsiiError',
    method: 'java.lang.RuntimeException',
    static: 'java.lang.RuntimeException',
    synth: 'java.lang.RuntimeException',
  },
  appendsStack: true,
});
