enum _ConfoundProtocolPlaceholder {}
