"""The API's token sign-in (`POST /api/v1/security/login`) with the second factor; set as the security manager's
`security_api` in app/kernel/security.py."""
from __future__ import annotations

from flask import Response, current_app, request
from flask_appbuilder.api import expose, safe
from flask_appbuilder.const import API_SECURITY_ACCESS_TOKEN_KEY, API_SECURITY_REFRESH_TOKEN_KEY
from flask_appbuilder.security import api as fab_security_api
from flask_appbuilder.security.schemas import login_post
from flask_jwt_extended import create_access_token, create_refresh_token, get_jwt, get_jwt_identity, jwt_required
from marshmallow import ValidationError

from app.identity import sessions

MFA_CLAIM = "mfa"  # in API tokens: the stamp of the enrolment the second factor was checked against
IDLE_REFRESH_TOKEN = "This refresh token was not used for {minutes} minutes, so it has ended. Sign in again."


class SecurityApi(fab_security_api.SecurityApi):
    """FAB's token sign-in with the second factor: "totp" in the body (a current code or a recovery code) for users
    who need one, and its claim in the tokens (app/identity/two_step.py), which the gate in
    app/identity/two_step_pages.py asks for. Named as FAB's class, so that its endpoints keep their names
    (SecurityApi.login) for the rate limiter and the route lists.
    """

    @expose("/login", methods=["POST"])
    @safe
    def login(self) -> Response:
        """Sign in to the API: a JWT access token and, if asked, a refresh token
        ---
        post:
          description: >-
            Authenticate with a password and, for users who sign in with two steps, the code from their
            authenticator app (or a recovery code) as "totp".
          requestBody:
            required: true
            content:
              application/json:
                schema:
                  type: object
                  required: [username, password]
                  properties:
                    username:
                      type: string
                    password:
                      type: string
                    provider:
                      type: string
                      enum: [db]
                    refresh:
                      type: boolean
                    totp:
                      description: The 6-digit code the authenticator app shows now, or a recovery code
                      type: string
          responses:
            200:
              description: Signed in
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
                      refresh_token:
                        type: string
            400:
              $ref: '#/components/responses/400'
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
        """
        from app.identity import (
            two_step,  # here, not at the top: app.identity.two_step imports app.kernel.security, which imports us
        )

        payload = request.get_json(silent=True)
        if not isinstance(payload, dict):
            return self.response_400(message="Request payload is not JSON")
        code = payload.get("totp")
        if code is not None and not isinstance(code, str):
            return self.response_400(message={"totp": ["Send the code as a string, such as \"012345\"."]})
        try:
            credentials = login_post.load({key: value for key, value in payload.items() if key != "totp"})
        except ValidationError as error:
            return self.response_400(message=error.messages)
        user = self.appbuilder.sm.auth_user_db(credentials["username"], credentials["password"])
        if not user:
            return self.response_401()
        try:
            claims = two_step.api_sign_in_claims(user, code)
        except two_step.SecondFactorRefused as refused:
            return self.response(401, message=str(refused))
        tokens = {API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(identity=str(user.id), fresh=True,
                                                                     additional_claims=claims)}
        if credentials.get("refresh"):
            tokens[API_SECURITY_REFRESH_TOKEN_KEY] = create_refresh_token(identity=str(user.id),
                                                                          additional_claims=claims)
            sessions.refresh_token_issued(user.id, tokens[API_SECURITY_REFRESH_TOKEN_KEY])
        return self.response(200, **tokens)

    @expose("/refresh", methods=["POST"])
    @jwt_required(refresh=True)
    @safe
    def refresh(self) -> Response:
        """A new access token from a refresh token, with the second factor's claim only if that token had it; a refresh
        token not used for SESSION_IDLE_MINUTES is refused, as an idle web session is
        ---
        post:
          responses:
            200:
              description: Refresh Successful
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      access_token:
                        type: string
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
          security:
            - jwt_refresh: []
        """
        if not sessions.refresh_token_used(get_jwt()["jti"]):
            return self.response(401, message=IDLE_REFRESH_TOKEN.format(minutes=current_app.config[
                "SESSION_IDLE_MINUTES"]))
        claims = {MFA_CLAIM: get_jwt()[MFA_CLAIM]} if MFA_CLAIM in get_jwt() else {}
        return self.response(200, **{API_SECURITY_ACCESS_TOKEN_KEY: create_access_token(
            identity=get_jwt_identity(), fresh=False, additional_claims=claims)})

    @expose("/logout", methods=["POST"])
    @jwt_required()
    @safe
    def logout(self) -> Response:
        """Sign out: this token and every other session and token of the user end at once
        ---
        post:
          responses:
            200:
              description: Signed out
              content:
                application/json:
                  schema:
                    type: object
                    properties:
                      message:
                        type: string
            401:
              $ref: '#/components/responses/401'
            500:
              $ref: '#/components/responses/500'
          security:
            - jwt: []
        """
        sessions.sign_out_everywhere(int(get_jwt_identity()))
        return self.response(200, message="Signed out: every session and token of yours has ended.")
